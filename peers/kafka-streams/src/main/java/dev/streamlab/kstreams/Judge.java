package dev.streamlab.kstreams;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * Parses each record of a raw stream once and judges it by the stream's rules
 * ({@link Events#reason}), keeping its origin for the dead letter.
 *
 * <p>Two kinds of judge differ in the stream time they give an event. {@link #stream} gives the
 * task's: right where a task reads one partition, as in a sub-topology of one topic, and there
 * heartbeats stop (they moved stream time at the source, {@link EventTime}, and are no data).
 * {@link #partitionTimed} keeps each partition's own stream time in the store
 * {@link #PARTITION_TIME}, for a sub-topology that reads two co-partitioned topics (a join),
 * whose task's stream time is the larger of both; it passes heartbeats on, as
 * {@link Event#heartbeat() heartbeat events}, so that they move the join's time too.
 */
public final class Judge implements FixedKeyProcessor<byte[], byte[], Event> {

    /** The stream time of each input partition of a task, for {@link #partitionTimed} judges. */
    public static final String PARTITION_TIME = "partition-time";

    private final String stream;
    private final boolean partitionTimed;
    private FixedKeyProcessorContext<byte[], Event> context;
    private KeyValueStore<String, Long> partitionTime;

    private Judge(String stream, boolean partitionTimed) {
        this.stream = stream;
        this.partitionTimed = partitionTimed;
    }

    /** The raw topic {@code stream}, each record judged by its task's stream time. */
    public static KStream<byte[], Event> stream(StreamsBuilder builder, String stream) {
        return builder.stream(stream, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .processValues(() -> new Judge(stream, false), Named.as("judge-" + stream));
    }

    /**
     * The raw topic {@code stream}, each record judged by its partition's stream time, heartbeats
     * included; the topology needs the store {@link #partitionTimeStore()}.
     */
    public static KStream<byte[], Event> partitionTimed(StreamsBuilder builder, String stream) {
        return builder.stream(stream, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .processValues(() -> new Judge(stream, true), Named.as("judge-" + stream), PARTITION_TIME);
    }

    /** The store of {@link #PARTITION_TIME}: "topic-partition" to its largest timestamp so far. */
    public static StoreBuilder<KeyValueStore<String, Long>> partitionTimeStore() {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PARTITION_TIME), Serdes.String(),
                Serdes.Long());
    }

    @Override
    public void init(FixedKeyProcessorContext<byte[], Event> context) {
        this.context = context;
        if (partitionTimed) {
            partitionTime = context.getStateStore(PARTITION_TIME);
        }
    }

    @Override
    public void process(FixedKeyRecord<byte[], byte[]> record) {
        RecordMetadata origin = context.recordMetadata().orElseThrow();
        long streamTime = partitionTimed ? advance(origin, record.timestamp()) : context.currentStreamTimeMs();
        var doc = Events.parse(record.value());
        if (record.headers().lastHeader(Events.HEARTBEAT_HEADER) != null) {
            // passed on where it moved its partition's time: the jobs' inert nudges (time 0) stop here
            // Without its header: a join forwards the results a record triggers with that record's
            // headers, and the rows a heartbeat closes would read as heartbeats downstream.
            if (partitionTimed && record.timestamp() == streamTime) {
                context.forward(record.withValue(new Event(record.value(), doc, Event.HEARTBEAT, origin.topic(),
                        origin.partition(), origin.offset(), streamTime)).withHeaders(new RecordHeaders()));
            }
            return;
        }
        // EventTime gave the record its ts_ms as timestamp exactly when that time is trusted:
        // otherwise the partition's time so far, which a ts_ms may only equal if it is trusted.
        long eventTime = Events.eventTime(doc);
        boolean trusted = eventTime >= 0 && eventTime == record.timestamp();
        context.forward(record.withValue(new Event(record.value(), doc, Events.reason(stream, doc, trusted),
                origin.topic(), origin.partition(), origin.offset(), streamTime)));
    }

    /** The partition's stream time with this record's timestamp: the largest so far, as a task's. */
    private long advance(RecordMetadata origin, long timestamp) {
        String partition = origin.topic() + "-" + origin.partition();
        Long before = partitionTime.get(partition);
        if (before != null && before >= timestamp) {
            return before;
        }
        partitionTime.put(partition, timestamp);  // written only when it moves
        return timestamp;
    }
}
