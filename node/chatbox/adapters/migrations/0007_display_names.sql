-- The names people and channels are shown by, apart from the names that identify them:
-- an account's display name ("Ms Smith" for login msmith; NULL shows the login name) and
-- a channel's title as its creator wrote it ("Year 7 Science" for year 7 science; NULL
-- shows the normalized name).
ALTER TABLE accounts ADD COLUMN display_name TEXT;
ALTER TABLE channels ADD COLUMN title TEXT;
