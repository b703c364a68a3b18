package dev.streamlab.kstreams;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A raw record as judged by {@link Judge}: its bytes, its parsed JSON (null when not an object),
 * the first rule it breaks (null when valid), where it came from, and its task's stream time
 * when it came (the largest trusted event time so far, its own included). A heartbeat is an
 * event only where a judge passes it on ({@link Judge#partitionTimed}), with the reason
 * {@link #HEARTBEAT}: it is not valid, and no data.
 *
 * <p>It only travels between the processors of one sub-topology and is never serialized.
 */
public record Event(byte[] value, JsonNode doc, String reason, String topic, int partition, long offset,
                    long streamTimeMs) {

    public static final String HEARTBEAT = "heartbeat";

    public boolean heartbeat() {
        return HEARTBEAT.equals(reason);
    }

    public boolean valid() {
        return reason == null;
    }

    public String text(String field) {
        return Events.text(doc, field);
    }

    public long tsMs() {
        return Long.parseLong(text("ts_ms"));
    }
}
