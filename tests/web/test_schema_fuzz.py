"""Schema-driven fuzzing: schemathesis generates requests from /api/v1/openapi.json, both
ones the schema allows and ones it does not (wrong types, missing fields, bodies that are
not JSON), and sends them to the real server, logged in. No answer may be a 5xx, every
answer the schema allows must not be refused as malformed, and every error has the one
shape."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode

from tests.web.conftest import ERROR_SHAPE

EXAMPLES_PER_OPERATION = int(os.environ.get("CHATBOX_FUZZ_EXAMPLES", "300"))
# Logging out or closing registration mid-run would only turn later requests into 401/403.
SKIPPED = {("DELETE", "/api/v1/session"), ("PUT", "/api/v1/admin/registration")}
# The live stream never ends by design; test_api.py covers it.
SKIPPED.add(("GET", "/api/v1/channels/{channel_id}/events"))


async def test_no_request_valid_or_invalid_makes_the_server_fail(served: str) -> None:
    failures, sent = await asyncio.to_thread(_fuzz, served)
    assert failures == []
    print(f"{sent} requests, none failed")
    assert sent >= 20 * EXAMPLES_PER_OPERATION  # most operations ran their examples


def _fuzz(base: str) -> tuple[list[str], int]:
    http = requests.Session()
    reply = http.post(base + "/api/v1/setup", json={"name": "owner", "password": "owner password"})
    reply.raise_for_status()
    headers = {"X-CSRF-Token": reply.json()["csrf_token"]}
    channel = http.post(
        base + "/api/v1/channels", json={"name": "fuzz", "visibility": "private"}, headers=headers
    ).json()
    http.post(
        base + f"/api/v1/channels/{channel['id']}/messages", json={"text": "seed"}, headers=headers
    )
    schema = schemathesis.openapi.from_dict(http.get(base + "/api/v1/openapi.json").json())
    failures: list[str] = []
    sent: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent.append(
                _fuzz_operation(operation, mode, base, http, headers, channel["id"], failures)
            )
    return failures, sum(sent)


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    base: str,
    http: requests.Session,
    headers: dict[str, str],
    channel_id: str,
    failures: list[str],
) -> int:
    """Send the operation's examples; returns how many were sent."""
    calls = iter(range(10**6))
    sent = 0

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        # Every other case aims at a real channel, so handlers past the lookup run too.
        if "channel_id" in (case.path_parameters or {}) and next(calls) % 2:
            case.path_parameters["channel_id"] = channel_id
        nonlocal sent
        sent += 1
        response = case.call(base_url=base, session=http, headers=headers, timeout=30)
        problem = _problem(response)
        if problem:
            failures.append(f"{mode} {case.method} {case.formatted_path}: {problem}")

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        # An operation with no parameters and no body has nothing to make invalid.
        if mode is GenerationMode.POSITIVE:
            raise
    return sent


def _problem(response: Any) -> str:
    status = response.status_code
    if status >= 500:
        return f"{status} {response.text[:200]}"
    if status >= 400:
        try:
            body = json.loads(response.text)
        except ValueError:
            return f"{status} error that is not JSON: {response.text[:200]}"
        if not isinstance(body, dict) or set(body) != ERROR_SHAPE:
            return f"{status} error of another shape: {response.text[:200]}"
    return ""
