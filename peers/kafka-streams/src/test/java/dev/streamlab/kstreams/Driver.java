package dev.streamlab.kstreams;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.test.TestRecord;

/** A peer topology in a {@link TopologyTestDriver}, fed raw JSON with append times as the broker would stamp them. */
final class Driver implements AutoCloseable {

    /** 2026-01-01T00:00:00Z: event times in the tests count from here. */
    static final long T0 = 1_767_225_600_000L;

    final TopologyTestDriver driver;

    Driver(Topology topology) {
        Properties props = Main.semantics();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(topology, props);
    }

    /** Appends {@code json} to {@code topic} at append time {@code appendMs}. */
    void send(String topic, String key, String json, long appendMs) {
        input(topic).pipeInput(new TestRecord<>(key.getBytes(UTF_8), json.getBytes(UTF_8), new RecordHeaders(),
                appendMs));
    }

    /** A heartbeat: it moves event time to {@code tsMs} and is no data. */
    void heartbeat(String topic, long tsMs) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Events.HEARTBEAT_HEADER, "1".getBytes(UTF_8));
        input(topic).pipeInput(new TestRecord<>(new byte[0], ("{\"heartbeat\":true,\"ts_ms\":" + tsMs + "}")
                .getBytes(UTF_8), headers, tsMs));
    }

    List<TestRecord<String, String>> read(String topic) {
        return driver.createOutputTopic(topic, new StringDeserializer(), new StringDeserializer()).readRecordsToList();
    }

    List<TestRecord<byte[], byte[]>> readBytes(String topic) {
        return driver.createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer())
                .readRecordsToList();
    }

    private TestInputTopic<byte[], byte[]> input(String topic) {
        return driver.createInputTopic(topic, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static String header(TestRecord<?, ?> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), UTF_8);
    }

    @Override
    public void close() {
        driver.close();
    }
}
