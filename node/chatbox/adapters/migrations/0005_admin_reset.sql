-- One-time codes from the serial console that let the owner reset an admin's password,
-- and the keys accounts had before such a reset (their old messages stay named).
CREATE TABLE admin_reset_codes (
    code_hash BLOB PRIMARY KEY,         -- sha256 of the code shown on the console
    expires_at INTEGER NOT NULL
);

CREATE TABLE former_keys (
    public_key TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    retired_at INTEGER NOT NULL
);
