"""In-memory fakes of the ports, for the fast tier of tests (``tests/fast``).

Each is named ``Fake…`` and stands in for a store or daemon so that a state machine can be
driven in milliseconds. They sit beside the real-daemon tests, which keep testing the
same services against Kubo, anvil and SQLite; nothing here replaces those.
"""
