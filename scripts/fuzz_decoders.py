"""Coverage-guided fuzzing of every decoder that takes bytes from another box or a client.

    .venv/bin/python scripts/fuzz_decoders.py [--runs N] [TARGET ...]

Each target runs under atheris (libFuzzer) in its own process, from a seed corpus of
valid inputs, for ``--runs`` inputs (100,000 by default). The documented refusal of each
decoder (``InvalidInput`` and its subclasses, which the box answers or drops) is the only
exception allowed; anything else is a crash, and libFuzzer saves the input that caused it
under ``.chatbox-bench/fuzz/``. Prints, per target: inputs run, seconds, coverage and
crashes.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".chatbox-bench" / "fuzz"
CHANNEL = "ab" * 32
PEER = "12D3KooWFuzzPeer"


def _targets() -> dict[str, tuple[Callable[[bytes], object], Callable[[], list[bytes]]]]:
    from chatbox.adapters.mdns import parse_txt
    from chatbox.domain import canonical, channels, content, envelope, manifest, sync
    from chatbox.domain.cid import raw_cid
    from chatbox.domain.identity import Identity

    author = Identity.generate()
    key = bytes(range(32))

    def entries() -> list[bytes]:
        first = envelope.create(author, CHANNEL, 1, [], 1, {"text": "hello"})
        second = envelope.create(author, CHANNEL, 2, [first.cid], 2, {"text": "héllo ✓"})
        sealed = envelope.create(author, CHANNEL, 1, [], 3, {"sealed": "AAAA"})
        return [first.raw, second.raw, sealed.raw]

    def relations() -> list[bytes]:
        block = content.create({"text": "héllo"}, bytes(32))
        target = envelope.parse(entries()[0]).cid
        bodies = [
            {"content": {"cid": raw_cid(block)}},
            {"content": {"cid": raw_cid(block), "re": target}},
            {"content": {"cid": raw_cid(block), "edit": target}},
            {"react": {"to": target, "emoji": "👩‍🔬", "on": True}},
            {"delete": target},
        ]
        return [envelope.create(author, CHANNEL, 2, [target], 4, body).raw for body in bodies]

    def contents() -> list[bytes]:
        file = {"cid": raw_cid(b"x"), "name": "a.png", "mime": "image/png", "size": 1}
        return [content.create({"text": "hi ✓"}), content.create({"file": file})]

    def announcements(channel_key: bytes | None) -> list[bytes]:
        raw = entries()[0]
        heads = sync.Announcement(
            "heads",
            author.public_key,
            "box",
            PEER,
            CHANNEL,
            5,
            (envelope.parse(raw).cid,),
            "",
            (raw,),
            ((author.public_key, "ada"),),
        )
        return [sync.encode(heads, author, channel_key)]

    def manifests() -> list[bytes]:
        from chatbox.domain.manifest import BatchEntry

        entry = BatchEntry(CHANNEL, "general", "public", [envelope.parse(entries()[0]).cid], key)
        private = BatchEntry("cd" * 32, "staff", "private", [], key)
        return [manifest.build(author, key, 7, [entry, private])]

    def invites() -> list[bytes]:
        channel = channels.Channel(CHANNEL, "family", "private", key)
        return [channels.encode_invite(channel).encode()]

    def txt(data: bytes) -> object:
        fields = dict(part.partition("=")[::2] for part in data.decode("latin-1").split("\n"))
        return parse_txt("box", fields, ["192.168.1.2"])

    def txt_seeds() -> list[bytes]:
        return [
            f"key={author.public_key}\npeer={PEER}\nport=80\naddrs=/ip4/1.2.3.4/tcp/4001".encode()
        ]

    return {
        "envelope": (envelope.parse, entries),
        "relation-entry": (envelope.parse, relations),
        "content-block": (content.parse, contents),
        "announcement": (
            lambda data: sync.decode(data, CHANNEL, None, PEER),
            lambda: announcements(None),
        ),
        "private-announcement": (
            lambda data: sync.decode(data, CHANNEL, key, PEER),
            lambda: announcements(key),
        ),
        "manifest": (manifest.parse, manifests),
        "invite": (lambda data: channels.decode_invite(data.decode("latin-1")), invites),
        "json-body": (canonical.loads, lambda: [b'{"text":"hi","clock":3}', b"[1,[2,{}]]"]),
        "mdns-txt": (txt, txt_seeds),
    }


def run_one(name: str, runs: int) -> None:
    """The child: fuzz one target until ``runs`` inputs ran (libFuzzer exits then)."""
    import atheris

    decode, seeds = _targets()[name]
    from chatbox.errors import InvalidInput

    # Every function loaded (chatbox's and the json, base64 and crypto wrappers it calls)
    # reports coverage, so libFuzzer keeps inputs that reach new branches.
    atheris.instrument_all()

    corpus = WORK / name / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seeds()):
        (corpus / f"seed-{number}").write_bytes(seed)

    def one(data: bytes) -> None:
        with contextlib.suppress(InvalidInput):  # the documented refusal
            decode(data)

    atheris.Setup(
        [
            sys.argv[0],
            f"-runs={runs}",
            f"-artifact_prefix={WORK / name}/",
            "-max_len=8192",
            str(corpus),
        ],
        one,
    )
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("targets", nargs="*")
    args = parser.parse_args()
    if args.child:
        run_one(args.child, args.runs)
        return 0
    names = args.targets or list(_targets())
    print(f"{'target':<22}{'inputs':>10}{'seconds':>9}{'coverage':>10}{'crashes':>9}")
    crashed = 0
    for name in names:
        started = time.monotonic()
        child = subprocess.run(
            [sys.executable, __file__, "--runs", str(args.runs), "--child", name],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        log = child.stderr
        done = re.findall(r"#(\d+)\s+(?:DONE|pulse|NEW|REDUCE|INITED)", log)
        coverage = re.findall(r"cov: (\d+)", log)
        failed = child.returncode != 0
        crashed += failed
        print(
            f"{name:<22}{(done[-1] if done else '?'):>10}{elapsed:>9.0f}"
            f"{(coverage[-1] if coverage else '?'):>10}{int(failed):>9}"
        )
        if failed:
            print("\n".join(log.splitlines()[-25:]), file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
