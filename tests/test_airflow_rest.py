"""Triggering a DAG run through Airflow's REST API: a 404 for a DAG the dag-processor is
writing again is asked again for a while, any other answer is final."""

from __future__ import annotations

import httpx
import pytest

from streamlab.errors import UserError
from streamlab.runtime.airflow_rest import AirflowRest


def client(answers: list[httpx.Response]) -> tuple[AirflowRest, list[httpx.Request]]:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return answers.pop(0)

    rest = object.__new__(AirflowRest)  # no login: the transport stands in for the API server
    rest.http = httpx.Client(base_url="http://airflow/api/v2", transport=httpx.MockTransport(answer))
    return rest, asked


def test_a_dag_not_found_for_a_moment_is_triggered_once_it_is_back(monkeypatch):
    monkeypatch.setattr("streamlab.runtime.airflow_rest.time.sleep", lambda s: None)
    rest, asked = client([httpx.Response(404, json={"detail": "Dag with dag_id: 'load' not found"}),
                          httpx.Response(200, json={"dag_run_id": "manual__1"})])
    assert rest.trigger("load") == "manual__1" and len(asked) == 2


def test_a_dag_that_stays_missing_or_a_refusal_is_one_line():
    rest, _ = client([httpx.Response(404, text="not found")])
    with pytest.raises(UserError, match="404 not found"):
        rest.trigger("nope", patience_s=0)
    rest, asked = client([httpx.Response(409, text="conflict")])
    with pytest.raises(UserError, match="409 conflict"):
        rest.trigger("load")
    assert len(asked) == 1
