"""Check that every runtime dependency, as pinned, has an aarch64 wheel for the CPythons of
Raspberry Pi OS (3.11 on bookworm, 3.13 on trixie), so the image can be built.

Asks the package index the way scripts/build_image.sh does (``pip download`` for the
aarch64 platform, binary wheels only) and prints what it resolved; exit 1 if any is missing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.13")
PLATFORMS = ("manylinux_2_17_aarch64", "manylinux2014_aarch64", "manylinux_2_28_aarch64")


def runtime_requirements() -> list[str]:
    with (REPO / "pyproject.toml").open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def resolve(python: str, into: Path) -> tuple[bool, str]:
    """Download the pinned closure for ``python`` on aarch64; (ok, pip's complaint)."""
    requirements = into / "requirements.txt"
    requirements.write_text("\n".join(runtime_requirements()) + "\n")
    platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    target = ["--dest", str(into), "--python-version", python, "--implementation", "cp"]
    pins = ["--constraint", str(REPO / "scripts/constraints.txt"), "-r", str(requirements)]
    download = ["-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    result = subprocess.run(
        [sys.executable, *download, *target, *platforms, *pins],
        capture_output=True,
        text=True,
        timeout=900,
    )
    complaint = "\n".join(
        line for line in result.stderr.splitlines() if "is ignored: it is neither" not in line
    )
    return result.returncode == 0, complaint


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    missing = False
    for python in PYTHONS:
        with tempfile.TemporaryDirectory() as directory:
            ok, complaint = resolve(python, Path(directory))
            wheels = sorted(path.name for path in Path(directory).glob("*.whl"))
        print(f"CPython {python} on aarch64: {len(wheels)} wheels" + ("" if ok else ", MISSING:"))
        if not ok:
            print(complaint)
            missing = True
        for wheel in wheels:
            print(f"  {wheel}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
