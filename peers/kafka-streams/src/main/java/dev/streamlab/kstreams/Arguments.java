package dev.streamlab.kstreams;

import java.util.Set;
import java.util.TreeSet;

/** The command line of {@link Main}: a topology's name and where it runs. */
public record Arguments(String topology, boolean describe, String bootstrapServers, String stateDir,
                        int standbyReplicas, int threads, int httpPort) {

    static String usage(Set<String> topologies) {
        return "usage: Main TOPOLOGY --bootstrap-servers HOST:PORT --state-dir DIR"
                + " [--standby-replicas N] [--threads N] [--http-port PORT]\n"
                + "       Main TOPOLOGY --describe    (print the topology: its sub-topologies, stores and topics)\n"
                + "  TOPOLOGY: one of " + new TreeSet<>(topologies);
    }

    /** The arguments, or null when help was asked for; an IllegalArgumentException says what is wrong. */
    static Arguments parse(String[] argv, Set<String> topologies) {
        String topology = null;
        String bootstrap = null;
        String stateDir = null;
        int standbys = 0;
        int threads = 1;
        int httpPort = 0;
        boolean describe = false;
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            if (arg.equals("-h") || arg.equals("--help")) {
                return null;
            }
            if (arg.equals("--describe")) {
                describe = true;
                continue;
            }
            if (!arg.startsWith("--")) {
                if (topology != null) {
                    throw new IllegalArgumentException("one topology at a time, got '" + topology + "' and '" + arg + "'");
                }
                topology = arg;
                continue;
            }
            if (i + 1 >= argv.length) {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            String value = argv[++i];
            switch (arg) {
                case "--bootstrap-servers" -> bootstrap = value;
                case "--state-dir" -> stateDir = value;
                case "--standby-replicas" -> standbys = count(arg, value, 0);
                case "--threads" -> threads = count(arg, value, 1);
                case "--http-port" -> httpPort = port(arg, value);
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (topology == null || !topologies.contains(topology)) {
            throw new IllegalArgumentException((topology == null ? "no topology" : "no topology '" + topology + "'")
                    + ": choose one of " + new TreeSet<>(topologies));
        }
        if (!describe && (bootstrap == null || stateDir == null)) {
            throw new IllegalArgumentException("--bootstrap-servers and --state-dir are required");
        }
        return new Arguments(topology, describe, bootstrap, stateDir, standbys, threads, httpPort);
    }

    private static int port(String option, String value) {
        int port = count(option, value, 1);
        if (port > 65535) {
            throw new IllegalArgumentException(option + " must be a port from 1 to 65535, got '" + value + "'");
        }
        return port;
    }

    private static int count(String option, String value, int least) {
        try {
            int n = Integer.parseInt(value);
            if (n >= least) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(option + " must be a whole number of at least " + least + ", got '" + value + "'");
    }
}
