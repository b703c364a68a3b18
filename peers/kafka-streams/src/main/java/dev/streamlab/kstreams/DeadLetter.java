package dev.streamlab.kstreams;

import static java.nio.charset.StandardCharsets.UTF_8;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;

/**
 * The peers' dead letter: each rejected record with its original key and bytes, and its reason
 * and origin in {@code dlq.*} headers, the same headers the PyFlink jobs write to theirs.
 */
public final class DeadLetter {

    public static final String TOPIC = "ks-dead-letter";

    private DeadLetter() {
    }

    /** Writes the rejected events of the raw {@code stream}, judged by {@code job}, to {@link #TOPIC}. */
    public static void to(KStream<byte[], Event> rejected, String job, String stream) {
        rejected.processValues(() -> new Headers(job), Named.as("dead-letter-" + stream))
                .to(TOPIC, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
    }

    private static final class Headers implements FixedKeyProcessor<byte[], Event, byte[]> {
        private final String job;
        private FixedKeyProcessorContext<byte[], byte[]> context;

        Headers(String job) {
            this.job = job;
        }

        @Override
        public void init(FixedKeyProcessorContext<byte[], byte[]> context) {
            this.context = context;
        }

        @Override
        public void process(FixedKeyRecord<byte[], Event> record) {
            Event event = record.value();
            RecordHeaders headers = new RecordHeaders();
            headers.add("dlq.job", job.getBytes(UTF_8));
            headers.add("dlq.reason", event.reason().getBytes(UTF_8));
            headers.add("dlq.source.topic", event.topic().getBytes(UTF_8));
            headers.add("dlq.source.partition", Integer.toString(event.partition()).getBytes(UTF_8));
            headers.add("dlq.source.offset", Long.toString(event.offset()).getBytes(UTF_8));
            context.forward(record.withValue(event.value()).withHeaders(headers));
        }
    }
}
