-- A reset code may be for one account: an admin gives it to a member who forgot their
-- password. NULL: a code from the serial console, for any admin account.
ALTER TABLE admin_reset_codes ADD COLUMN account_id INTEGER REFERENCES accounts (id);
