package dev.streamlab.kstreams;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.HostInfo;

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
            Lesson15Windows.JOB, Lesson15Windows::build,
            Lesson15Joins.JOB, Lesson15Joins::build,
            Lesson16Stores.JOB, Lesson16Stores::build);
    /** The topologies whose stores answer interactive queries over HTTP ({@code --http-port}). */
    static final Map<String, List<String>> QUERYABLE = Map.of(Lesson16Stores.JOB, Lesson16Stores.STORES);

    /** The peers answer queries on the loopback interface only. */
    static final String HTTP_HOST = "127.0.0.1";

    private Main() {
    }

    public static void main(String[] argv) throws InterruptedException, IOException {
        Arguments args;
        try {
            args = Arguments.parse(argv, TOPOLOGIES.keySet());
            if (args != null && args.httpPort() > 0 && !QUERYABLE.containsKey(args.topology())) {
                throw new IllegalArgumentException("--http-port: " + args.topology() + " has no queryable stores ("
                        + "those of " + QUERYABLE.keySet() + " have)");
            }
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
        if (args.httpPort() > 0) {
            try (StoreServer server = new StoreServer(streams, new HostInfo(HTTP_HOST, args.httpPort()),
                    QUERYABLE.get(args.topology()))) {
                System.out.println("interactive queries on http://" + HTTP_HOST + ":" + args.httpPort() + "/stores");
                stopped.await();
            }
        } else {
            stopped.await();
        }
    }

    /** What decides the topologies' results, shared with their tests' {@code TopologyTestDriver}. */
    static Properties semantics() {
        Properties props = new Properties();
        props.put(StreamsConfig.DEFAULT_TIMESTAMP_EXTRACTOR_CLASS_CONFIG, EventTime.class);
        // A left join emits an unmatched record once stream time closes its window, but by
        // default at most once a second of wall-clock time: the last orders of a data set, closed
        // by its heartbeat, would wait for a record that may never come. Check at every record.
        props.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_OUTER_JOIN_SPURIOUS_RESULTS_FIX, 0L);
        return props;
    }

    static Properties properties(Arguments args) {
        Properties props = semantics();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args.topology());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, args.stateDir());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, args.standbyReplicas());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, args.threads());
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        if (args.httpPort() > 0) { // where this instance answers queries, announced to the others
            props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, HTTP_HOST + ":" + args.httpPort());
        }
        // Failover starts when the group misses a dead instance's heartbeats for this long: 45 s
        // by default, 10 s here (the kstreams-instance-kill drill measures it). Shorter would
        // take a long GC pause for a death and move the tasks for nothing.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 2_000);
        return props;
    }
}
