"""How much room is left on the filesystem that holds the box's data (SD-card wear and
fill-up are the appliance's slowest failure)."""

from __future__ import annotations

import shutil
from pathlib import Path

from chatbox.ports import DiskUsage


def usage_of(path: Path) -> DiskUsage:
    """Space on ``path``'s filesystem as an unprivileged process sees it (root's reserved
    blocks do not count as free: the node does not run as root)."""
    total, _, free = shutil.disk_usage(path)
    return DiskUsage(total=total, free=free)
