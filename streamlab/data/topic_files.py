"""Topics as JSON-lines directories, for a job's local check (``flink_jobs.common.local_files``).

``write`` lays generated records out as one-partition raw topics, in the rows a local raw
source reads; ``TopicFiles`` reads every topic back as the ``kafka_io.Message`` list a Kafka
consumer would have seen, so the oracle compares a local run exactly as it compares the
cluster's. Bytes travel base64-encoded (Flink's JSON format for ``BYTES``).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from streamlab import lessons
from streamlab.data.generator import Record
from streamlab.data.kafka_io import Message
from streamlab.data.producer import HEARTBEAT_HEADERS
from streamlab.wire.contract import Output
from streamlab.wire.topics import DEAD_LETTER


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def write(records: Iterable[Record], directory: Path, now_ms: int | None = None) -> None:
    """Write ``records`` (in arrival order) as raw topics of one partition under ``directory``;
    each record's Kafka timestamp is ``now_ms``, as a producer's create time would be."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    stamp = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    rows: dict[str, list[str]] = {}
    for record in records:
        headers = dict(HEARTBEAT_HEADERS) if record.kind == "heartbeat" else {}
        topic_rows = rows.setdefault(record.topic, [])
        topic_rows.append(json.dumps({
            "k": _b64(record.key), "payload": _b64(record.value), "src_topic": record.topic,
            "src_partition": 0, "src_offset": len(topic_rows),
            "src_headers": {name: _b64(value) for name, value in headers.items()},
            "src_timestamp": stamp,
        }))
    for topic, lines in rows.items():
        (directory / topic).mkdir(parents=True, exist_ok=True)
        (directory / topic / "part-0.json").write_text("\n".join(lines) + "\n")


def _outputs() -> dict[str, Output]:
    return {output.topic: output for lesson in lessons.ALL for output in lesson.writes}


class TopicFiles:
    """The topics under ``directory``, read as a consumer of one-partition topics would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read_all(self, topic: str) -> list[Message]:
        folder = self.directory / topic
        # Flink commits a sink's files when its input ends; a file per run, named in no order
        # that matters here (one run writes a topic once).
        lines = [line for path in sorted(folder.glob("part-*")) if path.is_file()
                 for line in path.read_text().splitlines() if line]
        output = _outputs().get(topic)
        return [self._message(topic, offset, json.loads(line), output) for offset, line in enumerate(lines)]

    @staticmethod
    def _message(topic: str, offset: int, row: dict, output: Output | None) -> Message:
        if "payload" in row and "src_offset" in row:  # a raw topic, as ``write`` laid it out
            timestamp = datetime.strptime(row["src_timestamp"], "%Y-%m-%d %H:%M:%S.%fZ").replace(tzinfo=UTC)
            return Message(topic, 0, offset, _bytes(row["k"]), _bytes(row["payload"]),
                           {name: _bytes(value) for name, value in row["src_headers"].items()},
                           int(timestamp.timestamp() * 1000))
        if topic == DEAD_LETTER.name:
            return Message(topic, 0, offset, _bytes(row["k"]), _bytes(row["payload"]),
                           {name: _bytes(value) for name, value in (row["headers"] or {}).items()})
        if output is None:
            raise ValueError(f"{topic}: no lesson writes this topic")
        if output.compacted:  # a changelog: an update is a delete of the old row, then the new one
            after = row["after"]
            key = str((after or row["before"])[output.key]).encode()
            return Message(topic, 0, offset, key, None if after is None else json.dumps(after).encode(), {})
        return Message(topic, 0, offset, str(row[output.key]).encode(), json.dumps(row).encode(), {})
