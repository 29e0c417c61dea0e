-- Sessions, box-level settings chosen in the UI, sign-up codes and read positions.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,        -- sha256 of the cookie token; the token is never stored
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    sealed_keys BLOB NOT NULL,          -- the account's keys sealed with a key only the token gives
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE box_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE signup_codes (
    code_hash BLOB PRIMARY KEY,         -- sha256 of the code handed out by an admin
    created_by INTEGER NOT NULL REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by INTEGER                     -- the account it created; 0 while one is being created
);

ALTER TABLE memberships ADD COLUMN read_clock INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
