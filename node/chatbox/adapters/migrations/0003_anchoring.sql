-- The chain: transactions waiting to be sent or confirmed, and anchored batches.
CREATE TABLE chain_txs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('anchor', 'create_channel')),
    args TEXT NOT NULL,                 -- JSON arguments of the registry call
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sent', 'confirmed', 'failed')),
    nonce INTEGER,
    tx_hash TEXT,
    raw BLOB,                           -- the signed transaction, saved before it is sent
    block_number INTEGER,
    gas_used INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX chain_txs_open ON chain_txs (state) WHERE state IN ('queued', 'sent');

CREATE TABLE anchor_batches (
    id INTEGER PRIMARY KEY,
    tx_id INTEGER NOT NULL REFERENCES chain_txs (id),
    root BLOB NOT NULL,
    manifest_cid TEXT NOT NULL,
    manifest BLOB NOT NULL,
    stored INTEGER NOT NULL DEFAULT 0,  -- 1 once the manifest is pinned on IPFS
    created_at INTEGER NOT NULL
);

CREATE TABLE anchor_leaves (
    batch_id INTEGER NOT NULL REFERENCES anchor_batches (id),
    leaf_index INTEGER NOT NULL,
    channel_id TEXT NOT NULL,
    heads TEXT NOT NULL,                -- JSON list of the channel's head CIDs
    nonce BLOB NOT NULL,
    PRIMARY KEY (batch_id, leaf_index)
);
CREATE INDEX anchor_leaves_by_channel ON anchor_leaves (channel_id, batch_id);

-- Which batch first covered each entry: every entry indexed when a batch is built is an
-- ancestor of the heads that batch records.
CREATE TABLE anchor_coverage (
    cid TEXT PRIMARY KEY,
    batch_id INTEGER NOT NULL
) WITHOUT ROWID;
