"""Every error class the node raises is given its HTTP status by name, and its code."""

from __future__ import annotations

import chatbox.errors as errors
from chatbox.web.errors import STATUS, status_of


def _every_error_class() -> list[type[errors.ChatboxError]]:
    found, pending = [], [errors.ChatboxError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return found


def test_every_error_class_has_its_own_status_and_code() -> None:
    kinds = _every_error_class()
    assert len(kinds) >= 17
    assert [kind.__name__ for kind in kinds if kind not in STATUS] == []
    codes = [kind.code for kind in kinds]
    assert len(set(codes)) == len(codes), "two classes share a code"


def test_only_the_base_class_is_a_500() -> None:
    fives = [kind.__name__ for kind, status in STATUS.items() if status == 500]
    assert fives == ["ChatboxError"]
    assert status_of(errors.ConfigError("chain_id", "wrong")) == 503
    assert status_of(errors.ChainRejected("reverted")) == 502
    assert status_of(errors.NotVerified("leaf does not match")) == 422
