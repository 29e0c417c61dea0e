"""One module per outside thing: IPFS (Kubo RPC), SQLite, and later chain, mDNS and serial."""
