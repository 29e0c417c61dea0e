"""Schema-driven fuzzing: schemathesis generates requests from /api/v1/openapi.json and
sends them to the real server, logged in; no answer may be a 5xx."""

from __future__ import annotations

import asyncio
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, given

EXAMPLES_PER_OPERATION = 25
# Logging out or closing registration mid-run would only turn later requests into 401/403.
SKIPPED = {("DELETE", "/api/v1/session"), ("PUT", "/api/v1/admin/registration")}
# The live stream never ends by design; test_api.py covers it.
SKIPPED.add(("GET", "/api/v1/channels/{channel_id}/events"))


async def test_no_request_the_schema_allows_makes_the_server_fail(served: str) -> None:
    failures = await asyncio.to_thread(_fuzz, served)
    assert failures == []


def _fuzz(base: str) -> list[str]:
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
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        _fuzz_operation(operation, base, http, headers, channel["id"], failures)
    return failures


def _fuzz_operation(
    operation: Any,
    base: str,
    http: requests.Session,
    headers: dict[str, str],
    channel_id: str,
    failures: list[str],
) -> None:
    calls = iter(range(10**6))

    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        # Every other case aims at a real channel, so handlers past the lookup run too.
        if "channel_id" in (case.path_parameters or {}) and next(calls) % 2:
            case.path_parameters["channel_id"] = channel_id
        response = case.call(base_url=base, session=http, headers=headers, timeout=30)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
            )

    check()
