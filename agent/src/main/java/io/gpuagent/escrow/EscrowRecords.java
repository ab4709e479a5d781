package io.gpuagent.escrow;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * The escrow store's journal records: UTF-8 JSON payloads in a {@code Journal} of its own
 * ({@code <state_dir>/escrow}). Each record carries a whole value, so replay is "the last one wins":
 * <pre>
 * type 1  RENTAL    a {@link RentalBook} (key: rentalId)
 * type 2  CLAIM     a {@link Claim}, raw signed transaction included (key: id)
 * type 3  CURSOR    {"block": n}: the last block scanned for CloseRequested events
 * type 0  snapshot  {"rentals": [...], "claims": [...], "cursor": n}: the whole state, at compaction
 * </pre>
 * Instants are ISO-8601 strings, amounts JSON integers of any size. Unknown fields are ignored so
 * that a newer agent's records stay readable by an older {@code gpu-agent claims}.
 */
final class EscrowRecords {
    static final int RENTAL = 1;
    static final int CLAIM = 2;
    static final int CURSOR = 3;

    record Cursor(long block) {
    }

    record Snapshot(List<RentalBook> rentals, List<Claim> claims, long cursor) {
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .registerModule(new SimpleModule("instants")
                    .addSerializer(Instant.class, new JsonSerializer<>() {
                        @Override
                        public void serialize(Instant v, JsonGenerator g, SerializerProvider p) throws IOException {
                            g.writeString(v.toString());
                        }
                    })
                    .addDeserializer(Instant.class, new JsonDeserializer<>() {
                        @Override
                        public Instant deserialize(JsonParser p, DeserializationContext c) throws IOException {
                            return Instant.parse(p.getValueAsString());
                        }
                    }));

    private EscrowRecords() {
    }

    static byte[] encode(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    static <T> T decode(byte[] payload, Class<T> type, long seq) throws IOException {
        try {
            return JSON.readValue(payload, type);
        } catch (IOException e) {
            throw new IOException("escrow record " + seq + " is not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
