"""Benchmarks (not tests): how fast the jobs drain a backlog, against raw Kafka, in one run."""
