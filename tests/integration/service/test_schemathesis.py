"""Property-based API tests: no request the OpenAPI document allows gets a 5xx.

Schemathesis reads ``/api/v1/openapi.json`` from the in-process app (a real SQLite
database, the test clock of ``tests/integration/api/conftest.py``) and generates
requests for every operation, valid and invalid, sent with a valid bearer token (a
commander's, whose role may call every operation but the auditor's). The service
holds an active alert between a US and a Russian fighter when generation starts, so
the reads have something to show. The only check is ``not_a_server_error``: a 4xx
with a problem body is the right answer to a bad request, a 5xx never is.

Bounded: at most ``MAX_EXAMPLES`` examples per operation, derandomized under CI
(``CI`` set), as the hypothesis profiles of ``tests/conftest.py`` are.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err

from tests.integration.api.conftest import T0_S, Deployment, deploy
from tests.integration.api.scenario import FLIGHTS

MAX_EXAMPLES = 30


@pytest.fixture
def deployment(tmp_path) -> Iterator[Deployment]:
    deployed = deploy(tmp_path)
    with deployed.client:
        for _ in range(12):  # the fighters converge: an alert is active
            for party in ("usa", "rus", "gbr"):
                body = [
                    f.report(T0_S, deployed.clock.now_s)
                    for f in FLIGHTS
                    if f.party == party
                ]
                answer = deployed.client.post(
                    "/api/v1/reports", json=body, headers=deployed.auth(party)
                )
                assert answer.status_code == 200
            deployed.cycle()
        assert deployed.client.get(
            "/api/v1/alerts", headers=deployed.auth("usa")
        ).json()
        yield deployed
    deployed.runtime.close()


def test_no_request_gets_a_server_error(deployment):
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", deployment.client.app
    )
    headers = deployment.auth("usa", "commander")
    failures: dict[str, str] = {}
    examples: dict[str, int] = {}
    labels = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures[f"invalid schema {len(failures)}"] = str(result.err())
            continue
        operation = result.ok()
        labels.append(operation.label)
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=cases)
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=bool(os.environ.get("CI")),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case) -> None:
            examples[case.operation.label] = examples.get(case.operation.label, 0) + 1
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            no_server_error()
        except Exception as exc:  # one operation's failure; go on with the others
            # the server's exception (the ASGI transport re-raises it), then
            # hypothesis's notes: the falsifying example and a curl command
            lines = "".join(traceback.format_exception(exc)).splitlines()
            failures[operation.label] = "\n".join(lines[-30:])
    assert "POST /api/v1/reports" in labels
    assert len(labels) >= 10
    assert set(examples) == set(labels)  # every operation was exercised
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
