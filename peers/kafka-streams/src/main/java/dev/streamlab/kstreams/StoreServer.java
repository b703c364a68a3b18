package dev.streamlab.kstreams;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * Interactive queries over HTTP, Kafka Streams' own way: every instance answers for every key.
 * It reads a key it hosts from its own store, and asks Kafka Streams which instance hosts any
 * other ({@code queryMetadataForKey}, from the {@code application.server} each instance
 * announces) and fetches it from there.
 *
 * <pre>
 *   GET /stores                  the stores and the instances of the application
 *   GET /stores/STORE/KEY        the key's value (200), or 404 with a message
 * </pre>
 *
 * Anything else gets a 4xx with a message, as JSON ({@code {"error": ...}}); while the instance
 * rebalances or restores, a 503 with {@code Retry-After}.
 */
public final class StoreServer implements AutoCloseable {

    /** Marks a request one instance forwarded to another, which must then host the key itself. */
    static final String FORWARDED = "forwarded=1";
    static final int MAX_KEY_BYTES = 256;

    private final KafkaStreams streams;
    private final HostInfo self;
    private final List<String> stores;
    private final HttpServer server;
    private final ExecutorService workers = Executors.newFixedThreadPool(4);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    StoreServer(KafkaStreams streams, HostInfo self, List<String> stores) throws IOException {
        this.streams = streams;
        this.self = self;
        this.stores = stores;
        server = HttpServer.create(new InetSocketAddress(self.host(), self.port()), 0);
        server.createContext("/", this::handle);
        server.setExecutor(workers);
        server.start();
    }

    /** An answer: its status and JSON body. */
    record Response(int status, byte[] body) {
        static Response json(int status, Object value) {
            return new Response(status, Json.bytes(value));
        }

        static Response error(int status, String message) {
            return json(status, Map.of("error", message));
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        Response response;
        try {
            URI uri = exchange.getRequestURI();  // a malformed one the JDK's server answers with 400 itself
            response = respond(exchange.getRequestMethod(), uri.getRawPath(), uri.getRawQuery());
        } catch (RuntimeException e) {
            response = Response.error(500, "the query failed: " + e);
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (response.status() == 405) {
            exchange.getResponseHeaders().set("Allow", "GET");
        } else if (response.status() == 503) {
            exchange.getResponseHeaders().set("Retry-After", "1");
        }
        exchange.sendResponseHeaders(response.status(), response.body().length);
        exchange.getResponseBody().write(response.body());
        exchange.close();
    }

    /** The answer to {@code method} on the still percent-encoded {@code path} and {@code query}. */
    Response respond(String method, String path, String query) {
        if (!method.equals("GET")) {
            return Response.error(405, "only GET: GET /stores or GET /stores/STORE/KEY");
        }
        String[] parts = path.split("/", -1);
        if (parts.length == 2 && parts[1].equals("stores")) {
            return Response.json(200, Map.of("stores", stores, "instances", instances()));
        }
        if (parts.length != 4 || !parts[1].equals("stores")) {
            return Response.error(404, "no such path: GET /stores or GET /stores/STORE/KEY");
        }
        String store;
        String key;
        try {
            store = decode(parts[2]);
            key = decode(parts[3]);
        } catch (IllegalArgumentException e) {
            return Response.error(400, "the path is not valid percent-encoding: " + e.getMessage());
        }
        if (!stores.contains(store)) {
            return Response.error(404, "no store '" + store + "': choose one of " + new TreeSet<>(stores));
        }
        if (key.isEmpty() || key.getBytes(UTF_8).length > MAX_KEY_BYTES) {
            return Response.error(400, "a key is 1 to " + MAX_KEY_BYTES + " bytes of UTF-8");
        }
        return lookUp(store, key, FORWARDED.equals(query));
    }

    // --8<-- [start:lookup]
    private Response lookUp(String store, String key, boolean forwarded) {
        KeyQueryMetadata where;
        try {
            where = streams.queryMetadataForKey(store, key, Serdes.String().serializer());
        } catch (IllegalStateException e) {
            return Response.error(503, "not running yet: " + e.getMessage());
        }
        if (where == null || where.equals(KeyQueryMetadata.NOT_AVAILABLE)) {
            return Response.error(503, "the application is rebalancing: try again");
        }
        if (!where.activeHost().equals(self)) {
            return forwarded ? Response.error(503, "the key moved while the query was forwarded: try again")
                    : fetch(where.activeHost(), store, key);
        }
        try {
            ReadOnlyKeyValueStore<String, Object> local = streams.store(StoreQueryParameters
                    .fromNameAndType(store, QueryableStoreTypes.<String, Object>keyValueStore())
                    .withPartition(where.partition()));
            Object value = local.get(key);
            return value == null ? Response.error(404, "no key '" + key + "' in " + store)
                    : Response.json(200, value);
        } catch (InvalidStateStoreException e) {
            return Response.error(503, "the store is not ready (restoring or migrating): " + e.getMessage());
        }
    }

    // --8<-- [end:lookup]

    /** The key from the instance that hosts it, its answer relayed as it came. */
    private Response fetch(HostInfo host, String store, String key) {
        URI uri = URI.create("http://" + host.host() + ":" + host.port() + "/stores/"
                + encode(store) + "/" + encode(key) + "?" + FORWARDED);
        try {
            HttpResponse<byte[]> answer = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            return new Response(answer.statusCode(), answer.body());
        } catch (IOException e) {
            return Response.error(503, "the instance at " + host.host() + ":" + host.port() + " did not answer: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Response.error(503, "interrupted");
        }
    }

    /** A path segment's text: percent-encoding undone, a '+' kept (it means a space only in forms). */
    private static String decode(String segment) {
        return URLDecoder.decode(segment.replace("+", "%2B"), UTF_8);
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, UTF_8).replace("+", "%20");
    }

    /** Each instance of the application: where it answers and the stores it hosts. */
    private List<Map<String, Object>> instances() {
        return streams.metadataForAllStreamsClients().stream().map(client -> {
            Map<String, Object> instance = new LinkedHashMap<>();
            instance.put("host", client.hostInfo().host() + ":" + client.hostInfo().port());
            instance.put("stores", new TreeSet<>(client.stateStoreNames()));
            return instance;
        }).toList();
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }
}
