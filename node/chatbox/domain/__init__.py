"""The pure core, no I/O: canonical JSON and CIDs, identities, envelopes and channel logs,
channels, ids, topics and invites, sealing, sync announcements, Merkle leaves and batch
manifests (each format as ``docs/PROTOCOL.md`` specifies it)."""
