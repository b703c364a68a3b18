package dev.streamlab.kstreams;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Parses each record of a raw stream once and judges it by the stream's rules
 * ({@link Events#reason}), keeping its origin for the dead letter. Heartbeats stop here: they
 * have moved stream time at the source ({@link EventTime}) and are no data.
 */
public final class Judge implements FixedKeyProcessor<byte[], byte[], Event> {

    private final String stream;
    private FixedKeyProcessorContext<byte[], Event> context;

    public Judge(String stream) {
        this.stream = stream;
    }

    /** The raw topic {@code stream}, each record judged. */
    public static KStream<byte[], Event> stream(StreamsBuilder builder, String stream) {
        return builder.stream(stream, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .processValues(() -> new Judge(stream), Named.as("judge-" + stream));
    }

    @Override
    public void init(FixedKeyProcessorContext<byte[], Event> context) {
        this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<byte[], byte[]> record) {
        if (record.headers().lastHeader(Events.HEARTBEAT_HEADER) != null) {
            return;
        }
        var doc = Events.parse(record.value());
        // EventTime gave the record its ts_ms as timestamp exactly when that time is trusted:
        // otherwise the partition's time so far, which a ts_ms may only equal if it is trusted.
        long eventTime = Events.eventTime(doc);
        boolean trusted = eventTime >= 0 && eventTime == record.timestamp();
        RecordMetadata origin = context.recordMetadata().orElseThrow();
        context.forward(record.withValue(new Event(record.value(), doc, Events.reason(stream, doc, trusted),
                origin.topic(), origin.partition(), origin.offset(), context.currentStreamTimeMs())));
    }
}
