"""Pieces every job shares: Kafka table DDL, JSON validity checks, the job runner."""
