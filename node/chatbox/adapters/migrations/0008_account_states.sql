-- An admin may switch an account off (it cannot log in until it is switched on again)
-- or remove it: its keys are erased and it leaves every channel, while its name stays
-- taken, so nobody new can pass as its author, and its key keeps naming what it wrote.
ALTER TABLE accounts ADD COLUMN disabled_at INTEGER;
ALTER TABLE accounts ADD COLUMN removed_at INTEGER;
