"""Every tool that reads a topic survives any bytes (issue 17): the decoder, the dashboard's
views and notifier filter, the stores' changelog view and the event-time reader, driven by
hypothesis with arbitrary bytes and arbitrary JSON, never raise, and skip what is not theirs."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from streamlab.apps.dashboard.views import SHAPES, Views, readable
from streamlab.data import records
from streamlab.data.stores import STORES, StoreView
from streamlab.wire import events

DEEP = b"[" * 5000 + b"]" * 5000  # issue 17: RecursionError in `streamlab generate`
HOSTILE = [DEEP, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"\xff\xfe", b"", b"null", b"[]", b'"x"', b"1e999",
           b'{"ts_ms": 1} trailing', b"x" * 1_000_000]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children), max_leaves=20)


def test_the_decoder_answers_none_for_anything_but_an_object():
    assert [records.json_object(value) for value in HOSTILE] == [None] * len(HOSTILE)
    assert records.json_object(b'{"a": [1]}') == {"a": [1]}


@settings(max_examples=150)
@given(st.binary(max_size=2000))
def test_any_bytes_decode_without_raising(value):
    doc = records.json_object(value)
    assert doc is None or isinstance(doc, dict)


@settings(max_examples=150)
@given(st.sampled_from(sorted(SHAPES)), st.one_of(st.binary(max_size=500),
                                                   json_values.map(lambda v: json.dumps(v).encode())),
       st.one_of(st.none(), st.binary(max_size=20)))
def test_a_view_skips_what_a_job_did_not_write_and_its_answers_still_work(topic, value, key):
    views = Views(windows_per_category=3)
    before = views.skipped
    views.apply(topic, key, value)
    assert views.skipped == before + (readable(topic, value) is None and value is not None)
    # Whatever went in, every read the API makes still answers.
    for category in views.revenue:
        views.latest_windows(category, 2)
        views.category_products(category)
    views.categories(), views.chart(10), views.latest_alerts(10), views.session("c-1")


@settings(max_examples=200)
@given(json_values)
def test_a_row_of_the_right_shape_is_kept(extra):
    row = {"alert_id": "a-1", "card_id": "card-1", "rule": "amount-spike", "severity": "high", "x": extra}
    assert readable("alerts", json.dumps(row).encode()) == row
    assert readable("alerts", json.dumps({**row, "severity": True}).encode()) is None


@given(st.lists(st.tuples(st.one_of(st.none(), st.binary(max_size=10)),
                          st.one_of(st.none(), st.binary(max_size=200))), max_size=20))
def test_a_store_view_applies_any_changelog(changelog):
    view = StoreView(STORES["customer-orders"])
    for key, value in [*changelog, (b"c-1", DEEP)]:
        view.apply(key, value)
    assert view.records_read == len(changelog) + 1 and view.skipped >= 1


@given(json_values, st.integers(min_value=0, max_value=2**53))
def test_only_an_event_time_the_rules_accept_is_trusted(ts_ms, appended_ms):
    trusted = events.trusted_time(ts_ms, appended_ms)
    assert trusted is None or (trusted == ts_ms and events.EARLIEST_TS_MS <= trusted
                               <= appended_ms + events.MAX_AHEAD_MS)
    assert events.trusted_time(999_999_999_999_999, 1_767_254_400_000) is None
    assert events.trusted_time(True, 1_767_254_400_000) is None
