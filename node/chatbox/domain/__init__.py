"""The pure core: identities, envelopes, channel logs and sealing. No I/O here."""
