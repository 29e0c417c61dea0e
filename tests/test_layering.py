"""The package keeps its layers apart (STYLE.md): checked by walking every import."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "node" / "chatbox"
MODULES = sorted(
    ".".join(("chatbox", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    )
    for path in PACKAGE.rglob("*.py")
)

# What each layer may import from outside the standard library and from chatbox itself.
ALLOWED = {
    "chatbox.domain": {"cryptography", "Crypto", "chatbox.domain", "chatbox.errors"},
    "chatbox.services": {"chatbox.domain", "chatbox.ports", "chatbox.errors", "chatbox.services"},
    "chatbox.adapters": {
        "chatbox.domain",
        "chatbox.ports",
        "chatbox.errors",
        "aiohttp",
        "web3",
        "eth_account",
        "eth_keys",  # eth_account's own: the error a signature that recovers no key raises
        "eth_typing",
        "zeroconf",
        "ifaddr",  # zeroconf's own dependency, for the machine's addresses
        "serial",
        "chatbox.adapters.sqlite",
        "chatbox.adapters.schema",
        "chatbox.adapters.car",
        "chatbox.adapters.atomic",
    },
    "chatbox.web": {
        "chatbox.services",
        "chatbox.domain",
        "chatbox.errors",
        "chatbox.web",
        "quart",
        "quart_schema",
        "pydantic",
        "segno",
        "werkzeug",
        "markdown_it",
        "markupsafe",
        "nh3",
        "babel",  # the string catalogues (web/i18n.py)
    },
    "chatbox.config": {"chatbox.errors"},
    "chatbox.ports": {"chatbox.domain", "chatbox.ports"},
}


def _imports(module: str) -> set[str]:
    relative = module.removeprefix("chatbox").lstrip(".").replace(".", "/")
    path = PACKAGE / f"{relative}.py" if relative else PACKAGE / "__init__.py"
    if not path.exists():
        path = PACKAGE / relative / "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {
        name
        for name in names
        if name.split(".")[0] not in sys.stdlib_module_names and name != "__future__"
    }


def _allowed(name: str, permitted: set[str]) -> bool:
    return any(name == allowed or name.startswith(allowed + ".") for allowed in permitted)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_only_what_its_layer_may(module: str) -> None:
    layer = next(
        (layer for layer in ALLOWED if module == layer or module.startswith(layer + ".")), None
    )
    if layer is None:
        assert module in {
            "chatbox",
            "chatbox.__main__",
            "chatbox.cli",
            "chatbox.console_daemon",
            "chatbox.daemon",
            "chatbox.devstack",
            "chatbox.errors",
            "chatbox.firstboot",
            "chatbox.lan_discovery",
            "chatbox.signals",
        }, f"{module} has no layer"
        return
    imports = _imports(module)
    forbidden = {name for name in imports if not _allowed(name, ALLOWED[layer])}
    assert not forbidden, f"{module} imports {forbidden}"


def test_nothing_imports_the_composition_root() -> None:
    for module in MODULES:
        if module not in {"chatbox.cli", "chatbox.__main__"}:
            assert "chatbox.daemon" not in _imports(module), module


# chatbox.__main__ runs the CLI when imported; the CLI tests run it as `python -m chatbox`.
@pytest.mark.parametrize("module", [m for m in MODULES if m != "chatbox.__main__"])
def test_each_module_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, timeout=60)


def test_every_port_is_narrow() -> None:
    """A role a service needs, not a store: no protocol grows past a handful of methods."""
    import typing

    import chatbox.ports as ports

    widths = {}
    for name in ports.__all__:
        kind = getattr(ports, name)
        if getattr(kind, "_is_protocol", False) and kind is not typing.Protocol:
            own = [m for m in vars(kind) if not m.startswith("_") and callable(vars(kind)[m])]
            widths[name] = len(own)
    assert len(widths) >= 18, widths
    assert {name: width for name, width in widths.items() if width > 8} == {}


_WRITE = re.compile(r"\b(?:INSERT(?: OR [A-Z]+)? INTO|UPDATE|DELETE FROM|REPLACE INTO) ([a-z_]+)")
_TABLE = re.compile(r"CREATE (?:VIRTUAL )?TABLE ([a-z_]+)")
# A trigger writes on behalf of whoever writes the table it fires on.
_TRIGGER = re.compile(r"CREATE TRIGGER \w+ \w+ \w+(?: OF \w+)? ON ([a-z_]+)(.*?)\bEND;", re.DOTALL)


def test_each_table_is_written_by_one_adapter_only() -> None:
    """One owner per table: another adapter reads it at most (in a join), never writes it."""
    writers: dict[str, set[str]] = {}
    for path in (PACKAGE / "adapters").glob("*.py"):
        for table in _WRITE.findall(path.read_text()):
            writers.setdefault(table, set()).add(path.stem)
    scripts = [path.read_text() for path in (PACKAGE / "adapters" / "migrations").glob("*.sql")]
    for source, body in (trigger for script in scripts for trigger in _TRIGGER.findall(script)):
        for table in _WRITE.findall(body):
            writers.setdefault(table, set()).update(writers.get(source, set()))
    tables = {table for script in scripts for table in _TABLE.findall(script)}
    assert {table: owners for table, owners in writers.items() if len(owners) > 1} == {}
    assert tables - set(writers) == set(), "tables nobody writes"
