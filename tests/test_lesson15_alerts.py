"""Lesson 15 fraud alerts against the oracle: two countries, rapid payments, amount spikes and
a payment from abroad (payments, orders and customers correlated in event time)."""

from __future__ import annotations

import json

import pytest

from flink_jobs.lesson15_alerts import oracle
from streamlab.data import generator, kafka_io
from conftest import assert_equals_oracle, run_job

pytestmark = pytest.mark.platform

# Event time after the data sets of the modules before this one, before those after it.
SPEC = generator.GeneratorSpec(seed=1541, count=12_000, start_ms=1_773_532_800_000,  # 2026-03-15
                               late_fraction=0.05, malformed_fraction=0.03, fraud_fraction=0.02)


@pytest.fixture(scope="module")
def alerts_run(platform):
    records = list(generator.generate(SPEC))
    run_job(platform, "lesson15-alerts", records)
    return platform, records


def test_alerts_equal_the_oracle(alerts_run):
    assert_equals_oracle(alerts_run[0], oracle.check)


def test_every_rule_fires_on_a_planted_fraud_burst(alerts_run):
    """A fraud burst the generator planted (ids ending in -f<n>) on time raises the three card rules."""
    settings, records = alerts_run
    bursts: dict[str, set[str]] = {}
    for record in records:
        if record.topic == "payments" and record.kind == "valid":
            doc = json.loads(record.value)
            if "-f" in doc["payment_id"]:
                bursts.setdefault(doc["card_id"], set()).add(doc["payment_id"])
    rules_by_card: dict[str, set[str]] = {}
    for message in kafka_io.read_all(settings.bootstrap_servers, "alerts"):
        alert = json.loads(message.value)
        if set(alert["payment_ids"]) & bursts.get(alert["card_id"], set()):
            rules_by_card.setdefault(alert["card_id"], set()).add(alert["rule"])
    assert bursts and any(rules >= {"two-countries", "rapid-payments", "amount-spike"}
                          for rules in rules_by_card.values()), rules_by_card
