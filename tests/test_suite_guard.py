"""The suite's own guard: a test that asks for the platform without the ``platform`` marker
stops the collection, so `make check` (``-m "not platform"``) can never start Kafka."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import conftest


@dataclass
class FakeItem:
    nodeid: str
    fixturenames: tuple[str, ...]
    marked: bool

    def get_closest_marker(self, name: str):
        return name if self.marked and name == "platform" else None


def test_an_unmarked_test_of_the_platform_stops_the_collection():
    items = [FakeItem("tests/test_a.py::test_ok", ("platform",), True),
             FakeItem("tests/test_a.py::test_unit", ("tmp_path",), False),
             FakeItem("tests/test_b.py::test_forgot", ("dag_settings", "platform"), False)]
    with pytest.raises(pytest.UsageError, match=r"test_b.py::test_forgot$"):
        conftest.pytest_collection_modifyitems(items)


def test_marked_and_unit_tests_pass_the_guard():
    conftest.pytest_collection_modifyitems([FakeItem("t::a", ("demo",), True), FakeItem("t::b", (), False)])
