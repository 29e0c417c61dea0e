-- Sync between boxes: the buddy list of boxes, files to pin for peers' entries, and what a
-- pack needs fast (an entry's parents by child, the envelope bytes themselves).
CREATE TABLE peers (
    peer_id TEXT PRIMARY KEY,           -- the libp2p peer id of the box's IPFS node
    box_key TEXT,                       -- the box key, once an announcement signed by it arrived
    name TEXT NOT NULL DEFAULT '',
    addresses TEXT NOT NULL DEFAULT '[]',  -- JSON list of multiaddrs to dial
    source TEXT NOT NULL CHECK (source IN ('mdns', 'manual', 'pubsub')),
    last_seen INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,   -- invalid announcements or entries it sent
    added_at INTEGER NOT NULL
);

CREATE TABLE remote_people (
    public_key TEXT PRIMARY KEY,        -- an author on another box
    name TEXT NOT NULL,                 -- the name its box gave, for display only
    box_name TEXT NOT NULL,
    last_seen INTEGER NOT NULL          -- unix time of the newest of their entries that arrived
);

CREATE TABLE file_pins (
    cid TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX file_pins_waiting ON file_pins (updated_at) WHERE pinned = 0;

CREATE INDEX links_by_child ON links (child);
