package dev.streamlab.kstreams;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;

/**
 * Runs one peer topology against a cluster until it is stopped (SIGTERM: a clean close).
 *
 * <pre>
 *   java -cp 'JARS/kafka-streams/*' dev.streamlab.kstreams.Main TOPOLOGY
 *        --bootstrap-servers HOST:PORT --state-dir DIR [--standby-replicas N] [--threads N]
 *   java -cp 'JARS/kafka-streams/*' dev.streamlab.kstreams.Main TOPOLOGY --describe
 * </pre>
 */
public final class Main {

    /** The peer topologies by name; the application id is the job's name. */
    static final Map<String, Supplier<Topology>> TOPOLOGIES = Map.of(
            Lesson14Stateless.JOB, Lesson14Stateless::build,
            Lesson15Windows.JOB, Lesson15Windows::build);

    private Main() {
    }

    public static void main(String[] argv) throws InterruptedException {
        Arguments args;
        try {
            args = Arguments.parse(argv, TOPOLOGIES.keySet());
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (args == null) {
            System.out.println(Arguments.usage(TOPOLOGIES.keySet()));
            return;
        }
        Topology topology = TOPOLOGIES.get(args.topology()).get();
        if (args.describe()) {
            System.out.println(topology.describe());
            return;
        }
        KafkaStreams streams = new KafkaStreams(topology, properties(args));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close();
            stopped.countDown();
        }));
        streams.setStateListener((now, before) -> System.out.println("state " + before + " -> " + now));
        streams.start();
        stopped.await();
    }

    static Properties properties(Arguments args) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.topology());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, args.stateDir());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, args.standbyReplicas());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, args.threads());
        props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, EventTime.class);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // Failover starts when the group misses a dead instance's heartbeats for this long: 45 s
        // by default, 10 s here (the kstreams-instance-kill drill measures it). Shorter would
        // take a long GC pause for a death and move the tasks for nothing.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 2_000);
        return props;
    }
}
