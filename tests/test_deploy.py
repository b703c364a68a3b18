"""A failed `flink run` is reported by its most specific cause, not a page of stack trace."""

from __future__ import annotations

from streamlab.jobs.deploy import _root_cause

TRACE = """\
org.apache.flink.client.program.ProgramAbortException: java.lang.RuntimeException: Python process exits with code: 1
\tat org.apache.flink.client.python.PythonDriver.main(PythonDriver.java:140)
Traceback (most recent call last):
pyflink.util.exceptions.TableException: org.apache.flink.table.api.TableException: failed
Caused by: org.apache.calcite.sql.validate.SqlValidatorException: Column 'window_start' is ambiguous
\tat org.apache.calcite.runtime.Resources$ExInst.ex(Resources.java:601)
Caused by: java.lang.RuntimeException: Python process exits with code: 1
"""


def test_root_cause_is_the_last_specific_exception():
    assert _root_cause(TRACE) == (
        "Caused by: org.apache.calcite.sql.validate.SqlValidatorException: "
        "Column 'window_start' is ambiguous"
    )


def test_without_an_exception_the_tail_is_shown():
    output = "\n".join(f"line {i}" for i in range(30))
    assert _root_cause(output) == "\n".join(f"line {i}" for i in range(10, 30))
