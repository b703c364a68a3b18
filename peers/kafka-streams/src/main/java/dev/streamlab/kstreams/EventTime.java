package dev.streamlab.kstreams;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time for Kafka Streams: a record's {@code ts_ms}, when it is trusted
 * ({@link Events#trustedTime}: an integer at most an hour ahead of the broker's append time).
 *
 * <p>Any other record keeps its partition's time so far, so it never moves stream time: a
 * record the rules reject must still reach the topology (to go to the dead letter), and a
 * negative timestamp would make Kafka Streams drop it. Heartbeats carry a trusted
 * {@code ts_ms} and move stream time like any event. A record's timestamp therefore equals its
 * {@code ts_ms} exactly when that time is trusted, which is how {@link Judge} tells.
 */
public final class EventTime implements TimestampExtractor {

    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        long trusted = Events.trustedTime(Events.parse((byte[]) record.value()), record.timestamp());
        return trusted >= 0 ? trusted : Math.max(partitionTime, 0);
    }
}
