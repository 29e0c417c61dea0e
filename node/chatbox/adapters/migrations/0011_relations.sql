-- What each entry is: a message, or a reply, edit, reaction or delete about another entry
-- (its target), or a moderation act (whose key is in its body); a message's content
-- block, kept apart from its envelope so that a delete can drop it (domain/content.py);
-- and the words public search indexes, set by the node for public channels only, so that
-- nothing a private channel says is indexed here.
ALTER TABLE entries ADD COLUMN kind TEXT NOT NULL DEFAULT 'message'
    CHECK (kind IN ('message', 'reply', 'edit', 'react', 'delete', 'mod'));
ALTER TABLE entries ADD COLUMN target TEXT;
ALTER TABLE entries ADD COLUMN reaction TEXT;
ALTER TABLE entries ADD COLUMN reaction_on INTEGER;
ALTER TABLE entries ADD COLUMN content BLOB;          -- sealed in private channels
ALTER TABLE entries ADD COLUMN content_cid TEXT;
ALTER TABLE entries ADD COLUMN words TEXT;
ALTER TABLE entries ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
-- What folding reads of the entries about a message, all of it in the index: a row of
-- the table holds a whole envelope, and a popular message gathers thousands of reactions.
CREATE INDEX entries_about ON entries
    (target, kind, author, deleted, reaction, reaction_on, clock, cid) WHERE target IS NOT NULL;
CREATE INDEX entries_messages ON entries (channel_id, clock, cid) WHERE kind = 'message';
-- A channel's moderation is folded from its acts, and from its deletes of others' messages.
CREATE INDEX entries_acts ON entries (channel_id, clock, cid) WHERE kind IN ('mod', 'delete');

-- Blocks a delete dropped, waiting to be unpinned and removed from IPFS (the outbox's
-- worker does it): a file, or a content block.
CREATE TABLE forgotten_blocks (
    cid TEXT PRIMARY KEY
) WITHOUT ROWID;

UPDATE entries SET words = coalesce(json_extract(body, '$.text'), json_extract(body, '$.file.name'))
WHERE channel_id IN (SELECT id FROM channels WHERE visibility = 'public');

-- Search follows ``words``: an edit's words find the message it edits, and a row leaves
-- the index when a delete clears its words.
DROP TRIGGER entries_searchable;
CREATE TRIGGER entries_searchable AFTER INSERT ON entries
WHEN new.words IS NOT NULL
BEGIN
    INSERT INTO message_search (words, cid, channel_id) VALUES (
        new.words, CASE WHEN new.kind = 'edit' THEN new.target ELSE new.cid END, new.channel_id
    );
    INSERT INTO message_search_rows (cid, search_row) VALUES (new.cid, last_insert_rowid());
END;

CREATE TRIGGER entries_forgotten AFTER UPDATE OF words ON entries
WHEN new.words IS NULL AND old.words IS NOT NULL
BEGIN
    DELETE FROM message_search
    WHERE rowid = (SELECT search_row FROM message_search_rows WHERE cid = old.cid);
    DELETE FROM message_search_rows WHERE cid = old.cid;
END;
