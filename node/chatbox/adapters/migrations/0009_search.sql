-- Full-text search over what public channels say: text already readable by anyone on the
-- box. A private channel's entries hold sealed bodies, which have no text to index, so
-- nothing of them is written here (services/search.py scans them in memory instead).
-- Triggers keep the index in step with every way an entry arrives or leaves: posting,
-- sync, reindexing and restore.
CREATE VIRTUAL TABLE message_search USING fts5(
    words, cid UNINDEXED, channel_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- Which index row holds which entry, so a leaving entry is found without a scan.
CREATE TABLE message_search_rows (
    cid TEXT PRIMARY KEY,
    search_row INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER entries_searchable AFTER INSERT ON entries
WHEN coalesce(json_extract(new.body, '$.text'), json_extract(new.body, '$.file.name')) IS NOT NULL
BEGIN
    INSERT INTO message_search (words, cid, channel_id) VALUES (
        coalesce(json_extract(new.body, '$.text'), json_extract(new.body, '$.file.name')),
        new.cid, new.channel_id
    );
    INSERT INTO message_search_rows (cid, search_row) VALUES (new.cid, last_insert_rowid());
END;

CREATE TRIGGER entries_unsearchable AFTER DELETE ON entries
BEGIN
    DELETE FROM message_search
    WHERE rowid = (SELECT search_row FROM message_search_rows WHERE cid = old.cid);
    DELETE FROM message_search_rows WHERE cid = old.cid;
END;

INSERT INTO message_search (words, cid, channel_id)
SELECT coalesce(json_extract(body, '$.text'), json_extract(body, '$.file.name')), cid, channel_id
FROM entries
WHERE coalesce(json_extract(body, '$.text'), json_extract(body, '$.file.name')) IS NOT NULL;
INSERT INTO message_search_rows (cid, search_row) SELECT cid, rowid FROM message_search;
