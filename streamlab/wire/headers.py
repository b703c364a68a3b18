"""Kafka record headers that carry meaning between the parts.

``HEARTBEAT_HEADER`` marks the generator's end-of-data heartbeats (and the waits' inert
nudges): they move event time forward and are never data, so every reader skips them.
"""

HEARTBEAT_HEADER = "streamlab-heartbeat"
