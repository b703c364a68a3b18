package dev.streamlab.kstreams;

import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** The outputs' JSON: a record's components as snake_case fields, as the lessons' columns are named. */
public final class Json {

    private static final ObjectMapper MAPPER =
            new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private Json() {
    }

    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A serde for a record type, for repartition topics and state stores. */
    public static <T> Serde<T> serde(Class<T> type) {
        return Serdes.serdeFrom(
                (topic, value) -> value == null ? null : bytes(value),
                (topic, data) -> {
                    try {
                        return data == null ? null : MAPPER.readValue(data, type);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }
}
