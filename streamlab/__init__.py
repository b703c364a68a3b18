"""streamlab: a stream-processing lab (Kafka, PyFlink, Airflow, DuckDB, Great Expectations)."""
