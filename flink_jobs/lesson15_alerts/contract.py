"""Lesson 15's fraud alerts: patterns over each card's payments."""

from streamlab.wire.contract import Latency, Lesson, Mart, Output, UpgradeMode
from streamlab.wire.expectations import allowed, at_least, not_null, unique

# What each mart's rows promise: the warehouse checks them (Great Expectations).
RULES = ["two-countries", "rapid-payments", "amount-spike", "foreign-country"]  # what the job calls its rules
ALERTS = (
    *not_null("alert_id", "rule", "severity", "card_id", "ts_time", "payment_ids"),
    allowed("rule", RULES), allowed("severity", ["medium", "high"]), unique("alert_id"),
    *at_least(0, "amount_cents"),
)

LESSON = Lesson(
    key="lesson15-alerts",
    summary="fraud alerts: two countries, rapid payments (MATCH_RECOGNIZE), amount spikes, a foreign country",
    inputs=("payments", "orders", "customers"),  # payments first: the late topic holds payments
    outputs=(
        Output("alerts", 3, "Fraud alerts per card: rule, severity, evidence (keyed by card_id).",
               "alerts_out", "card_id",
               "alert_id STRING, rule STRING, severity STRING, card_id STRING, ts_ms BIGINT,"
               " payment_ids ARRAY<STRING>, countries ARRAY<STRING>, amount_cents BIGINT, detail STRING",
               Mart("alerts", expects=ALERTS)),
    ),
    late=Output("l15-alerts-late", 1, "Payments too late to be put in order for the fraud patterns.",
                "late_out", "id",
                "id STRING, ts_ms BIGINT, source_topic STRING, source_partition INT, source_offset BIGINT"),
    upgrade_mode=UpgradeMode.LAST_STATE,  # 90 days of state per card: skip the extra savepoint
    state="`MATCH_RECOGNIZE` partial matches; running mean per card; order and customer versions (TTL 90 days)",
    latency=Latency("alerts", lambda out: [("payments", pid) for pid in out["payment_ids"]]),
)
