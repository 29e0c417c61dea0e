"""One module per outside thing, each implementing ports of ``chatbox.ports``: Kubo's RPC
(``ipfs``, and ``kubo_repo`` for its configuration), SQLite (``sqlite``, and the stores of
its tables, each the only writer of its own: ``log_store``, ``account_store``,
``channel_store``, ``anchor_store``, ``peer_store``), the chain
(``chain``, ``chain_account``), mDNS, the serial line, Wi-Fi, the disk, key files, systemd's
notify socket and the console's control socket."""
