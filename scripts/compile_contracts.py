"""Compile contracts/ChatRegistry.sol with the pinned solcjs and write its artifact.

    python scripts/compile_contracts.py          write the artifacts
    python scripts/compile_contracts.py --check  exit 1 if the committed ones differ

The artifact (ABI, creation and runtime bytecode, compiler settings) is written to
contracts/build/ and copied into the package, which reads it at run time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "contracts" / "ChatRegistry.sol"
SOLCJS = ROOT / "scripts" / "devstack" / "chain" / "node_modules" / ".bin" / "solcjs"
ARTIFACTS = (
    ROOT / "contracts" / "build" / "ChatRegistry.json",
    ROOT / "node" / "chatbox" / "adapters" / "ChatRegistry.json",
)
# cancun: widely deployed EVM rules, so the registry runs on any current chain.
SETTINGS = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {
        "*": {"ChatRegistry": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
    },
}


def compile_registry() -> str:
    """The artifact text that the pinned compiler gives for the current source."""
    request = {
        "language": "Solidity",
        "sources": {"ChatRegistry.sol": {"content": SOURCE.read_text()}},
        "settings": SETTINGS,
    }
    version = subprocess.run(
        [str(SOLCJS), "--version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    done = subprocess.run(
        [str(SOLCJS), "--standard-json"],
        input=json.dumps(request),
        check=True,
        capture_output=True,
        text=True,
    )
    output = json.loads(done.stdout[done.stdout.index("{") :])
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise SystemExit("\n".join(e["formattedMessage"] for e in errors))
    contract = output["contracts"]["ChatRegistry.sol"]["ChatRegistry"]
    artifact = {
        "contractName": "ChatRegistry",
        "compiler": {"solc": version, "settings": SETTINGS},
        "abi": contract["abi"],
        "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
        "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
    }
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    fresh = compile_registry()
    if "--check" in argv:
        stale = [str(path) for path in ARTIFACTS if path.read_text() != fresh]
        for path in stale:
            print(f"{path} differs from a fresh compile", file=sys.stderr)
        return 1 if stale else 0
    for path in ARTIFACTS:
        path.write_text(fresh)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
