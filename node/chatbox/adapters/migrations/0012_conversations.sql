-- A private channel's id binds its founder's key, whom its moderation starts from; a
-- channel that continues another after a member's removal names it (PROTOCOL.md §5.2).
ALTER TABLE channels ADD COLUMN founder TEXT;
ALTER TABLE channels ADD COLUMN follows TEXT;

-- A person on another box, as their box introduced them on the people topic: their login
-- name there, which ``@name@box`` mentions.
ALTER TABLE remote_people ADD COLUMN handle TEXT;

-- Direct conversations (docs/PROTOCOL.md section 12). A conversation is a private channel
-- whose key reached each member sealed to their own key, with its members fixed.
CREATE TABLE cards (
    public_key TEXT PRIMARY KEY,        -- a person's signing key, here or on another box
    card TEXT NOT NULL                  -- their signed card: the key that seals to them
);

CREATE TABLE conversations (
    channel_id TEXT PRIMARY KEY REFERENCES channels (id),
    members TEXT NOT NULL               -- JSON list of the members' signing keys, sorted
);

-- Grants are sealed keys, readable by their recipient only. An arriving one waits until
-- its recipient logs in here; a sent one is announced again until it is a week old; one
-- opened or refused is 'done', its bytes gone, so its announcements are not kept again.
CREATE TABLE grants (
    channel_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'done')),
    grant BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, recipient, direction)
);
-- What a page load asks: the grants waiting for one person.
CREATE INDEX grants_waiting ON grants (recipient) WHERE direction = 'in';
