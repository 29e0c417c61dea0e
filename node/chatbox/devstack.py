"""The development stack (DESIGN.md section 7): real daemons on free loopback ports.

IPFS is Kubo, the daemon the box ships, built by ``make setup`` from the module pinned in
``scripts/devstack/kubo`` and configured as first boot configures the box; the chain is
anvil from ``scripts/devstack/chain``. Both are started here for ``chatbox dev``, by the
test fixtures and by the benchmarks, each with its data in a directory of its own, and
stopped with SIGTERM (then SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from eth_account.signers.local import LocalAccount

from chatbox.adapters import kubo_repo
from chatbox.adapters.chain import ChainClient
from chatbox.errors import Unavailable

_CHECKOUT_DEVSTACK = Path(__file__).resolve().parents[2] / "scripts" / "devstack"
DEVSTACK_DIR = Path(os.environ.get("CHATBOX_DEVSTACK_DIR", _CHECKOUT_DEVSTACK))
KUBO_BINARY = "kubo/bin/ipfs"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now, never one given before.

    The kernel may hand a port just released to the next probe, so two calls in a row
    (a daemon's RPC and gateway) could get the same one; each port goes out once.
    """
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


class Daemon:
    """A child process with a log file, waited on until ready and stopped politely."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                argv,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )

    def wait_until(self, ready_url: str, body: bytes | None = None) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise Unavailable(f"{self.name} exited while starting; see {self.log_path}")
            if _answers(ready_url, body):
                return
            time.sleep(0.2)
        raise Unavailable(
            f"{self.name} did not start in {START_TIMEOUT:.0f} s; see {self.log_path}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a power cut would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class IpfsDaemon(Daemon):
    """Kubo with the box's configuration; RPC and gateway on loopback, swarm as given.

    ``swarm`` defaults to one TCP address on loopback; boxes in network namespaces listen
    on their own addresses. ``env`` adds to the daemon's environment (``GOMEMLIMIT``).
    """

    def __init__(
        self, repo: Path, swarm: list[str] | None = None, env: dict[str, str] | None = None
    ) -> None:
        super().__init__("IPFS", repo.with_name(repo.name + ".log"))
        self.repo = repo
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self._swarm = swarm
        self._env = env or {}

    def start(self) -> IpfsDaemon:
        binary = ipfs_binary()
        kubo_repo.make(binary, self.repo)
        # Free ports each start: several daemons (tests, two boxes) share one machine.
        swarm = self._swarm or [f"/ip4/127.0.0.1/tcp/{free_port()}"]
        kubo_repo.configure(
            self.repo, kubo_repo.isolated_settings(self.api_port, free_port(), swarm)
        )
        self.spawn([binary, *kubo_repo.DAEMON_ARGS], {"IPFS_PATH": str(self.repo), **self._env})
        self.wait_until(self.api_url + "/api/v0/id", b"")
        return self


class AnvilNode(Daemon):
    """anvil with its state saved in ``state_dir`` so the dev chain survives restarts."""

    def __init__(self, state_dir: Path, chain_id: int = 31337) -> None:
        super().__init__("anvil", state_dir / "anvil.log")
        self.state_dir = state_dir
        self.port = free_port()
        self.chain_id = chain_id
        self.rpc_url = f"http://127.0.0.1:{self.port}"

    def start(self) -> AnvilNode:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        binary = DEVSTACK_DIR / "chain/node_modules/.bin/anvil"
        if not binary.exists():
            raise Unavailable(f"anvil is not installed under {binary.parent}; run 'make setup'")
        self.spawn(
            [
                str(binary),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--chain-id",
                str(self.chain_id),
                "--state",
                str(self.state_dir / "state.json"),
            ]
        )
        probe = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        ).encode()
        self.wait_until(self.rpc_url, probe)
        return self


def ipfs_binary() -> str:
    """The pinned Kubo that ``make setup`` builds (scripts/devstack/build_kubo.sh)."""
    kubo = DEVSTACK_DIR / KUBO_BINARY
    if not kubo.exists():
        raise Unavailable(f"Kubo is not built at {kubo}; run 'make setup'")
    return str(kubo)


def _answers(url: str, body: bytes | None) -> bool:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


DEV_FUNDS = 100 * 10**18  # wei the development chain gives the box account
REGISTRY_FILE = "registry-address"


async def prepare_chain(anvil: AnvilNode, account: LocalAccount) -> str:
    """Fund the box account on anvil and deploy the registry once; return its address."""
    client = ChainClient(anvil.rpc_url, "", account)
    try:
        if await client.balance(account.address) < DEV_FUNDS // 2:
            await client.rpc("anvil_setBalance", [account.address, hex(DEV_FUNDS)])
        saved = anvil.state_dir / REGISTRY_FILE
        if saved.exists():
            address = saved.read_text().strip()
            known = ChainClient(anvil.rpc_url, address)
            try:
                if await known.has_registry():
                    return address
            finally:
                await known.close()
        fees = await client.fees()
        address = await client.deploy_registry(
            2 * fees.base_fee + fees.priority_fee, fees.priority_fee
        )
        saved.write_text(address + "\n")
        return address
    finally:
        await client.close()
