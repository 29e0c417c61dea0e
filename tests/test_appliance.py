"""The appliance's files: shell scripts, systemd units, boot-partition files, the image
build's offline stage, and aarch64 wheels for every pinned dependency."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from chatbox import config
from chatbox.devstack import ipfs_binary

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "scripts/build_image.sh"
UNITS = sorted((REPO / "systemd").glob("*.service"))
SHELLCHECK = Path(sys.executable).with_name("shellcheck")
ENABLED = {path.name for path in UNITS}


def _build(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(BUILD), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env or {**os.environ, "PYTHON": sys.executable},
    )


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rootfs")
    built = _build("--rootfs-only", str(root))
    assert built.returncode == 0, built.stderr
    return root


def test_every_shell_script_passes_shellcheck() -> None:
    scripts = [*sorted((REPO / "scripts").glob("*.sh")), REPO / ".ci/run"]
    assert BUILD in scripts
    result = subprocess.run(
        [str(SHELLCHECK), "--severity=style", *map(str, scripts)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_rootfs_stage_places_and_enables_everything(rootfs: Path) -> None:
    wants = rootfs / "etc/systemd/system/multi-user.target.wants"
    assert {link.name for link in wants.iterdir()} == ENABLED
    for link in wants.iterdir():
        assert os.readlink(link) == f"/usr/lib/systemd/system/{link.name}"
        assert (rootfs / "usr/lib/systemd/system" / link.name).read_bytes() == (
            REPO / "systemd" / link.name
        ).read_bytes()
    for masked in ("avahi-daemon.service", "avahi-daemon.socket", "serial-getty@ttyGS0.service"):
        assert os.readlink(rootfs / "etc/systemd/system" / masked) == "/dev/null"
    journal = (rootfs / "etc/systemd/journald.conf.d/chatbox.conf").read_text()
    cap = re.search(r"^SystemMaxUse=(\d+)M$", journal, re.M)
    assert cap is not None, "logs must not fill the SD card"
    # The cap the README promises, and small beside the smallest SD card the box runs on.
    assert f"capped at {cap.group(1)} MB" in (REPO / "README.md").read_text()
    assert int(cap.group(1)) <= 64
    users = (rootfs / "usr/lib/sysusers.d/chatbox.conf").read_text()
    assert re.search(r"^u chatbox ", users, re.M) and re.search(r"^u kubo ", users, re.M)

    settings = rootfs / "etc/chatbox/chatbox.toml"
    assert settings.stat().st_mode & 0o777 == 0o640
    assert config.load(settings, environ={}) == config.Settings()
    wheels = [path.name for path in (rootfs / "opt/chatbox/wheels").iterdir()]
    assert any(re.fullmatch(r"chatbox-[\d.]+-py3-none-any\.whl", name) for name in wheels)

    boot = rootfs / "boot/firmware"
    assert {"chatbox.toml", "network-config", "config.txt", "cmdline.txt"} <= {
        path.name for path in boot.iterdir()
    }
    assert "modules-load=dwc2,g_serial" in (boot / "cmdline.txt").read_text()
    assert "enable_uart=1" in (boot / "config.txt").read_text()
    assert "dtoverlay=dwc2" in (boot / "config.txt").read_text()


def test_rootfs_stage_keeps_the_base_images_boot_words(tmp_path: Path) -> None:
    boot = tmp_path / "boot/firmware"
    boot.mkdir(parents=True)
    (boot / "cmdline.txt").write_text(
        "console=serial0,115200 console=tty1 root=PARTUUID=0a1b2c3d-02 rootfstype=ext4 "
        "fsck.repair=yes rootwait resize cfg80211.ieee80211_regdom=GB\n"
    )
    (boot / "config.txt").write_text("[all]\ncamera_auto_detect=1\n")
    for _ in range(2):  # a second run changes nothing
        assert _build("--rootfs-only", str(tmp_path)).returncode == 0
    words = (boot / "cmdline.txt").read_text().split()
    assert "root=PARTUUID=0a1b2c3d-02" in words and "resize" in words
    assert "console=serial0,115200" not in words, "the UART belongs to the chatbox console"
    assert words.count("modules-load=dwc2,g_serial") == 1
    assert (boot / "config.txt").read_text().count("enable_uart=1") == 1


def test_every_unit_passes_systemd_analyze_verify(rootfs: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(rootfs, root, symlinks=True)
    # verify resolves every unit a unit names (sysinit.target ...) and every program it
    # runs under --root: the host's own units, and the programs the image installs.
    shutil.copytree(
        "/usr/lib/systemd/system",
        root / "usr/lib/systemd/system",
        symlinks=True,
        dirs_exist_ok=True,
    )
    venv = root / "opt/chatbox"
    # As the image build does in its chroot: a venv holding the node's wheel.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    wheel = next((venv / "wheels").glob("chatbox-*.whl"))
    install = ["install", "--quiet", "--no-deps", "--no-index", str(wheel)]
    subprocess.run([str(venv / "bin/python"), "-m", "pip", *install], check=True)
    # The pinned Kubo the image installs, built for this machine. Helios cannot be
    # downloaded here: a placeholder file stands at its path only so that verify finds
    # an executable there.
    (root / "usr/local/bin").mkdir(parents=True)
    shutil.copy(ipfs_binary(), root / "usr/local/bin/ipfs")
    helios_placeholder_for_verify = root / "opt/helios/helios"
    helios_placeholder_for_verify.parent.mkdir(parents=True)
    helios_placeholder_for_verify.write_text("#!/bin/sh\nexit 1\n")
    helios_placeholder_for_verify.chmod(0o755)

    for unit in UNITS:
        result = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", f"--root={root}", unit.name],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0 and not result.stderr.strip(), (unit.name, result.stderr)


# The ratings the README states for the units; a unit loosened past them fails here.
STATED_EXPOSURE = {
    "chatbox.service": ("rates it", 1.6),
    "chatbox-console.service": ("rated", 2.7),
}


@pytest.mark.parametrize("unit", sorted(STATED_EXPOSURE))
def test_each_unit_is_as_confined_as_the_readme_says(unit: str) -> None:
    phrase, stated = STATED_EXPOSURE[unit]
    assert f"{phrase} {stated}" in (REPO / "README.md").read_text()
    result = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=true",
            "--no-pager",
            str(REPO / "systemd" / unit),
        ],
        capture_output=True,
        text=True,
    )
    score = re.search(rf"Overall exposure level for {re.escape(unit)}: ([\d.]+)", result.stdout)
    assert score is not None, result.stdout + result.stderr
    assert float(score.group(1)) <= stated


def test_settings_template_lists_every_setting_at_its_default() -> None:
    text = (REPO / "firmware-config/chatbox.toml").read_text()
    uncommented = "\n".join(
        line[2:] for line in text.splitlines() if re.match(r"# [a-z_]+ = ", line)
    )
    values = tomllib.loads(uncommented)
    assert set(values) == {field.name for field in fields(config.Settings)}
    template = config.Settings(
        **{key: config._convert(key, value) for key, value in values.items()}
    )
    assert template == config.Settings()
    assert tomllib.loads(text) == {}, "the template itself changes nothing"


def test_network_template_is_cloud_init_v2() -> None:
    text = (REPO / "firmware-config/network-config").read_text()
    assert re.search(r"^network:\n  version: 2\n", text, re.M)
    assert "wifis:" in text and "access-points:" in text


def test_build_help_explains_every_option() -> None:
    result = _build("--help")
    assert result.returncode == 0
    options = set(re.findall(r"^\s+(--[a-z-]+)", result.stdout, re.M))
    handled = set(re.findall(r"^\t\t(--[a-z-]+)\)", BUILD.read_text(), re.M))
    assert handled and handled == options


def test_build_stops_with_a_clear_message(tmp_path: Path) -> None:
    unknown = _build("--frobnicate")
    assert unknown.returncode != 0 and "unknown option: --frobnicate" in unknown.stderr
    bad_pin = _build("--helios", "0.8.6:nothex")
    assert bad_pin.returncode != 0 and "VERSION:SHA256" in bad_pin.stderr

    # Only the commands the script needs before it looks for its build tools.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", "install", "sed", "grep", "tr", "cut", "sha256sum", "mkdir"):
        (bin_dir / tool).symlink_to(shutil.which(tool) or tool)
    env = {"PATH": str(bin_dir), "PYTHON": sys.executable}
    missing = _build("--offline", str(tmp_path), env=env)
    assert missing.returncode != 0
    assert "missing tools: curl xz (" in missing.stderr

    offline = tmp_path / "inputs"
    offline.mkdir()
    base = "2025-12-04-raspios-trixie-arm64-lite.img.xz"
    (offline / base).write_bytes(b"not the image")
    (offline / f"{base}.sha256").write_text("0" * 64 + f"  {base}\n")
    mismatch = _build("--offline", str(offline), "--output", str(tmp_path / "out"))
    assert mismatch.returncode != 0
    assert f"checksum mismatch for {offline}/{base}" in mismatch.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_every_pinned_dependency_has_aarch64_wheels_for_cpython_3_11_and_3_13() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts/check_wheels.py")],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for python in ("3.11", "3.13"):
        assert re.search(rf"CPython {python} on aarch64: \d+ wheels\n", result.stdout)
    pinned = {
        requirement.split("==")[0].replace("-", "_").lower()
        for requirement in tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
    }
    resolved = {line.strip().split("-")[0].lower() for line in result.stdout.splitlines()[1:]}
    assert pinned <= resolved
