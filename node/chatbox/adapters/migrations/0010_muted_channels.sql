-- A member may mute a channel: its new messages are not counted or announced to them,
-- except a mention of them. It is their own setting, kept with their membership.
ALTER TABLE memberships ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
