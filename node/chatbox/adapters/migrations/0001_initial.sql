-- Accounts, channels, memberships, the message index and channel heads.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    public_key TEXT NOT NULL UNIQUE,
    sealing_public_key TEXT NOT NULL,
    locked_keys BLOB NOT NULL,          -- private keys locked with the account's password
    is_admin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    sealed_key BLOB,                    -- private channels: key sealed with the box vault key
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    channel_id TEXT NOT NULL REFERENCES channels (id),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, channel_id)
);

CREATE TABLE entries (
    cid TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    clock INTEGER NOT NULL,
    author TEXT NOT NULL,
    ts INTEGER NOT NULL,
    body TEXT NOT NULL,                 -- the signed body (sealed in private channels)
    file_cid TEXT,                      -- set when the entry refers to a file
    raw BLOB,                           -- envelope bytes, kept until IPFS holds them pinned
    stored INTEGER NOT NULL DEFAULT 0   -- 1 once the envelope is pinned on IPFS
);
CREATE INDEX entries_by_order ON entries (channel_id, clock, cid);
CREATE INDEX entries_outbox ON entries (stored) WHERE stored = 0;
CREATE INDEX entries_by_file ON entries (file_cid) WHERE file_cid IS NOT NULL;

CREATE TABLE links (
    parent TEXT NOT NULL,
    child TEXT NOT NULL,
    PRIMARY KEY (parent, child)
) WITHOUT ROWID;

CREATE TABLE heads (
    channel_id TEXT NOT NULL REFERENCES channels (id),
    cid TEXT NOT NULL,
    clock INTEGER NOT NULL,
    PRIMARY KEY (channel_id, cid)
) WITHOUT ROWID;
