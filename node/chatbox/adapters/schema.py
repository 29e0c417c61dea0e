"""Schema migrations: numbered SQL files applied in order, tracked by ``user_version``."""

from __future__ import annotations

import sqlite3
from importlib import resources

_PACKAGE = "chatbox.adapters.migrations"


def migration_scripts() -> list[tuple[int, str]]:
    """(version, sql) for every migration shipped with the package, in order."""
    scripts = []
    for item in resources.files(_PACKAGE).iterdir():
        if item.name.endswith(".sql"):
            scripts.append((int(item.name.split("_", 1)[0]), item.read_text("utf-8")))
    return sorted(scripts)


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the resulting version."""
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    for version, sql in migration_scripts():
        if version <= current:
            continue
        # executescript commits first; the script and its version bump run as one unit.
        connection.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        current = version
    return int(current)
