"""Files the box must never leave half-written (keys, settings, connections): the bytes go to
a temporary file beside the target, created with its final mode, flushed to the card, then
renamed over the target, so a power cut leaves either the old file or the new one."""

from __future__ import annotations

import os
from pathlib import Path


def write_file(path: Path, content: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    # O_CREAT's mode is cut by the umask, and an old temporary file keeps its own mode.
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def write_if_changed(path: Path, content: bytes, mode: int) -> bool:
    """Write ``content`` atomically unless the file already holds it; True if written.

    Unchanged files are left alone, so a boot-time step run again wears nothing.
    """
    if path.exists() and path.read_bytes() == content and (path.stat().st_mode & 0o777) == mode:
        return False
    write_file(path, content, mode)
    return True
