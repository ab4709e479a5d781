package io.gpuagent.protocol;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fast paths of the codecs against the reference ones they stand in for: the streaming
 * envelope reader against the tree reader, the common-request binding against databind, and the
 * writers straight from records into the frame against the tree encoders. Same envelopes, same
 * messages, same errors (code, id and message), same bytes, over the fuzz corpus, some 90,000
 * mutations of it, and every message type with awkward values.
 */
class ProtocolCodecEquivalenceTest {
    private static final String CORPUS = "/io/gpuagent/market/netty/ProtocolDecoderFuzzTestInputs";
    /** Pieces the mutations splice in: what the reference reader treats specially, and what the fast reader gives up on. */
    private static final String[] TOKENS = {"1e400", "-1e400", "1.5", "1", "2", "0", "-0", "01", "2147483648", "null", "true",
            "\"\"", "\"s-1\"", "{}", "[]", "{", "}", "[", "]", ",", ":", "\"v\":1,", "\"v\":1.0,", "\"v\":\"1\",",
            "\"type\":\"status\",", "\"id\":\"x\",", "\"id\":7,", "\"id\":null,", "\"body\":null,", "\"body\":[],",
            "\"body\":{\"session\":\"s-2\"},", "\"body\":{\"a\":2147483648,\"b\":99999999999999999999,\"c\":true,\"d\":null,\"a\":[1]},", "\"session\":1", "\"session\":null", "\"time\":5", "\\u0000", "\\ud800",
            "\"x\":[1e400],", "\"y\":{\"z\":1e-400},", " ", "\n", "\t"};
    private static final byte[][] BYTES = {{0}, {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, {(byte) 0xC3, (byte) 0xA9},
            {(byte) 0xC3}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
            {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80}, {(byte) 0xFF}, {0x7F}, {0x1F}};

    @Test
    void theStreamingReaderAndTheFastBindingAgreeWithTheReferenceOverTheCorpusAndItsMutations() throws Exception {
        List<byte[]> corpus = corpusPayloads();
        assertThat(corpus).as("payloads in the corpus").hasSizeGreaterThan(1000);
        SplittableRandom random = new SplittableRandom(13);
        int streamed = 0;
        int mutantsStreamed = 0;
        for (byte[] payload : corpus) {
            streamed += compare(payload) ? 1 : 0;
            for (int i = 0; i < 6; i++) {
                mutantsStreamed += compare(mutate(payload, random)) ? 1 : 0;
            }
        }
        // the streaming reader must really read a good part of them itself, or this test proves little
        assertThat(streamed).as("corpus payloads the streaming reader read itself, of " + corpus.size())
                .isGreaterThan(corpus.size() / 10);
        assertThat(mutantsStreamed).as("mutants the streaming reader read itself").isGreaterThan(corpus.size() / 6);
    }

    @Test
    void bodiesOfEveryShapeReadTheSameAsTheTree() throws Exception {
        List<String> bodies = List.of("{}", "{\"a\":\"\"}", "{\"a\":1,\"b\":-1,\"c\":0,\"d\":-0}",
                "{\"i\":2147483647,\"j\":2147483648,\"k\":-2147483649,\"l\":9223372036854775807,\"m\":9223372036854775808}",
                "{\"t\":true,\"f\":false,\"n\":null}", "{\"a\":1,\"b\":2,\"a\":\"x\"}", "{\"a\":{\"b\":[1,{\"c\":null}]},\"a\":[]}",
                "{\"x\":1.5}", "{\"x\":1e2}", "{\"x\":-0.0}", "{\"x\":[1.5]}", "{\"x\":{\"y\":1e400}}",
                "{\"s\":\"a\\\"b\\u0041\\n\"}", "{\"versions\":[1,2],\"scheduler\":\"s\"}", "{ \"a\" : 1 ,\n\t\"b\":[ ] }");
        for (String body : bodies) {
            byte[] payload = ("{\"v\":1,\"type\":\"status\",\"id\":\"i\",\"body\":" + body + "}").getBytes(StandardCharsets.UTF_8);
            compare(payload);
            Envelope fast = EnvelopeCodec.stream(payload);
            if (!body.contains(".") && !body.contains("e")) {
                assertThat(fast).as("streamed: " + body).isNotNull();
            }
        }
    }

    @Test
    void theCommonRequestsTakeTheFastPaths() throws Exception {
        for (String json : List.of("{\"v\":1,\"type\":\"status\",\"id\":\"c-1\",\"body\":{\"session\":\"s-1\"}}",
                "{\"v\":1,\"type\":\"heartbeat\",\"id\":\"c-2\"}", "{\"v\":1,\"type\":\"heartbeat\",\"body\":{\"time\":\"t\"}}",
                "{\"v\":1,\"type\":\"offer.get\",\"id\":\"c-3\",\"body\":null}", "{\"type\":\"list\",\"v\":1,\"id\":\"c-4\",\"x\":[1,{}]}")) {
            byte[] payload = json.getBytes(StandardCharsets.UTF_8);
            Envelope e = EnvelopeCodec.stream(payload);
            assertThat(e).as(json).isNotNull().isEqualTo(EnvelopeCodec.decodeTree(payload));
            assertThat(MessageCodec.bindCommon(MessageCodec.classOf(e.type()), e.body())).as(json)
                    .isNotNull().isEqualTo(MessageCodec.bind(e, MessageCodec.classOf(e.type())));
        }
    }

    @Test
    void theWritersWriteTheBytesOfTheTreeEncoders() throws IOException {
        int n = 0;
        for (Message m : samples()) {
            for (String id : Arrays.asList(null, "c-1", "\u00e9\"\\\n\u2028\ud83d\ude00")) {
                Envelope tree = MessageCodec.encode(m, id);
                byte[] want = EnvelopeCodec.encode(tree);
                ByteArrayOutputStream direct = new ByteArrayOutputStream();
                MessageCodec.write(m, id, direct);
                assertThat(new String(direct.toByteArray(), StandardCharsets.UTF_8)).as(MessageCodec.typeOf(m))
                        .isEqualTo(new String(want, StandardCharsets.UTF_8));
                assertThat(direct.toByteArray()).isEqualTo(want);
                ByteArrayOutputStream fromTree = new ByteArrayOutputStream();
                EnvelopeCodec.write(tree, fromTree);
                assertThat(fromTree.toByteArray()).isEqualTo(want);
                n++;
            }
        }
        ByteArrayOutputStream nullBody = new ByteArrayOutputStream();
        EnvelopeCodec.write(new Envelope(1, "list", "x", null), nullBody);
        assertThat(nullBody.toByteArray()).isEqualTo(EnvelopeCodec.encode(new Envelope(1, "list", "x", null)));
        assertThat(n).isGreaterThan(3 * MessageCodec.types().size());
    }

    @Test
    void theHandWrittenAnswersWriteWhatDatabindWritesWhateverTheirComponentsHold() throws Exception {
        SplittableRandom random = new SplittableRandom(11);
        List<Class<? extends Record>> hot = List.of(Message.SessionReply.class, Message.SessionState.class,
                Message.SessionEnded.class, Message.Sessions.class, Message.SessionUsage.class, Message.Heartbeat.class,
                Message.Error.class);
        int plain = 0;
        int escaped = 0;
        for (Class<? extends Record> type : hot) {
            for (int i = 0; i < 400; i++) {
                Message m = (Message) randomRecord(type, random, 0);
                String id = i % 7 == 0 ? null : i % 5 == 0 ? "c-\"" + i : "c-" + i;
                String want = new String(EnvelopeCodec.encode(MessageCodec.encode(m, id)), StandardCharsets.UTF_8);
                ByteArrayOutputStream direct = new ByteArrayOutputStream();
                MessageCodec.write(m, id, direct);
                assertThat(new String(direct.toByteArray(), StandardCharsets.UTF_8)).as(type.getSimpleName()).isEqualTo(want);
                ByteArrayOutputStream ascii = new ByteArrayOutputStream();
                if (AnswerWriter.writePlain(m, MessageCodec.typeOf(m), id, ascii)) {
                    assertThat(new String(ascii.toByteArray(), StandardCharsets.UTF_8)).as("plain " + type.getSimpleName())
                            .isEqualTo(want);
                    plain++;
                } else {
                    assertThat(ascii.size()).as("nothing written when it is not plain").isZero();
                    escaped++;
                }
            }
        }
        assertThat(plain).as("written as plain ASCII").isGreaterThan(400);
        assertThat(escaped).as("written through Jackson").isGreaterThan(400);
    }

    /**
     * A record of {@code type} with every component filled at random (a reference one null now and
     * then), drawn again when its constructor refuses the values (Sessions wants a list).
     */
    private static Object randomRecord(Class<?> type, SplittableRandom random, int depth) throws Exception {
        RecordComponent[] components = type.getRecordComponents();
        Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
        for (int attempt = 0; ; attempt++) {
            Object[] values = new Object[components.length];
            for (int i = 0; i < components.length; i++) {
                values[i] = randomValue(components[i].getGenericType(), random, depth);
            }
            try {
                return type.getDeclaredConstructor(types).newInstance(values);
            } catch (InvocationTargetException e) {
                if (attempt == 100) {
                    throw e;
                }
            }
        }
    }

    private static Object randomValue(java.lang.reflect.Type t, SplittableRandom random, int depth) throws Exception {
        Class<?> raw = t instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) t;
        if (raw == long.class) {
            return random.nextInt(4) == 0 ? random.nextLong() : (long) random.nextInt(100_000);
        }
        if (raw == int.class) {
            return random.nextInt();
        }
        if (raw == double.class) {
            double[] odd = {0.0, -0.0, 1e-7, 1e21, 0.1, 1e7, 9999999.0, 0.001, Double.MAX_VALUE, Double.MIN_VALUE,
                Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
            return random.nextInt(3) == 0 ? odd[random.nextInt(odd.length)] : random.nextDouble() * Math.pow(10, random.nextInt(-9, 12));
        }
        if (raw == boolean.class) {
            return random.nextBoolean();
        }
        if (random.nextInt(5) == 0) {
            return null; // every reference component may be null, whatever the agent would send
        }
        if (raw == Integer.class) {
            return random.nextInt();
        }
        if (raw == Long.class) {
            return random.nextLong();
        }
        if (raw == String.class) {
            return randomString(random);
        }
        if (raw == List.class) {
            java.lang.reflect.Type element = ((ParameterizedType) t).getActualTypeArguments()[0];
            List<Object> out = new ArrayList<>();
            for (int i = random.nextInt(4); i > 0; i--) {
                Object v = randomValue(element, random, depth + 1);
                if (v != null || element != Message.SessionInfo.class) {
                    out.add(v);
                }
            }
            return raw == List.class && element == Message.SessionInfo.class ? List.copyOf(out) : out;
        }
        if (raw.isRecord() && depth < 3) {
            return randomRecord(raw, random, depth + 1);
        }
        return null;
    }

    /** Half of them plain printable ASCII (what the agent mostly sends), half with what needs escaping. */
    private static String randomString(SplittableRandom random) {
        String alphabet = random.nextBoolean() ? " !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~"
                : "az09-_.:/ \"\\\n\t\u0001\u001f\u007f\u00e9\u4e2d\u2028";
        StringBuilder s = new StringBuilder();
        for (int i = random.nextInt(12); i > 0; i--) {
            if (random.nextInt(20) == 0) {
                s.append("\ud83d\ude00");
            } else {
                s.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
        }
        return s.toString();
    }

    @Test
    void theSessionIdCheckIsTheRegexItReplaced() {
        Pattern id = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
        SplittableRandom random = new SplittableRandom(7);
        String alphabet = "aZ09._:-/ \u00e9\u017f\u212a\n";
        for (int i = 0; i < 200_000; i++) {
            int len = random.nextInt(i % 100 == 0 ? 140 : 6);
            StringBuilder s = new StringBuilder();
            for (int k = 0; k < len; k++) {
                s.append(random.nextInt(8) == 0 ? alphabet.charAt(random.nextInt(alphabet.length())) : "aZ09._:-".charAt(random.nextInt(8)));
            }
            assertThat(FieldException.isId(s.toString())).as("\"" + s + "\"").isEqualTo(id.matcher(s).matches());
        }
    }

    /** True when the streaming reader read the payload itself. */
    static boolean compare(byte[] payload) throws Exception {
        Envelope fast = EnvelopeCodec.stream(payload);
        Object want = outcome(() -> EnvelopeCodec.decodeTree(payload));
        Object got = outcome(() -> EnvelopeCodec.decode(payload));
        Supplier<String> what = () -> new String(payload, StandardCharsets.UTF_8);
        assertThat(got).as(() -> "decode of " + what.get()).isEqualTo(want);
        if (fast != null) {
            assertThat(fast).as(() -> "streamed " + what.get()).isEqualTo(want);
            // equal trees may differ in field order or node class; the text shows both
            assertThat(fast.toString()).as(() -> "streamed " + what.get()).isEqualTo(want.toString());
            assertThat(classes(fast.body())).as(() -> "node classes of " + what.get()).isEqualTo(classes(((Envelope) want).body()));
        }
        if (want instanceof Envelope e && MessageCodec.classOf(e.type()) != null) {
            Class<? extends Message> type = MessageCodec.classOf(e.type());
            Object reference = outcome(() -> MessageCodec.bind(e, type));
            assertThat(outcome(() -> MessageCodec.decode(e))).as(() -> "message of " + what.get()).isEqualTo(reference);
            Message common = MessageCodec.bindCommon(type, e.body());
            if (common != null) {
                assertThat(common).as(() -> "common binding of " + what.get()).isEqualTo(reference);
            }
        }
        return fast != null;
    }

    /** The class of every node of a tree, depth first, with the field names. */
    private static List<String> classes(com.fasterxml.jackson.databind.JsonNode node) {
        List<String> out = new ArrayList<>();
        out.add(node.getClass().getSimpleName());
        node.fields().forEachRemaining(f -> {
            out.add(f.getKey());
            out.addAll(classes(f.getValue()));
        });
        if (node.isArray()) {
            node.forEach(child -> out.addAll(classes(child)));
        }
        return out;
    }

    @FunctionalInterface
    private interface Decoding {
        Object run() throws ProtocolException;
    }

    /** The result, or the error as code, id and message (ProtocolException has no equals). */
    private static Object outcome(Decoding d) {
        try {
            return d.run();
        } catch (ProtocolException e) {
            return List.of(e.code(), String.valueOf(e.correlationId()), String.valueOf(e.getMessage()));
        }
    }

    private static byte[] mutate(byte[] payload, SplittableRandom random) {
        byte[] p = payload.clone();
        int edits = 1 + random.nextInt(3);
        for (int k = 0; k < edits; k++) {
            int at = p.length == 0 ? 0 : random.nextInt(p.length + 1);
            switch (random.nextInt(6)) {
                case 0 -> {
                    if (p.length > 0) {
                        int i = Math.min(at, p.length - 1);
                        p[i] = (byte) (p[i] ^ (1 << random.nextInt(8)));
                    }
                }
                case 1 -> {
                    int end = Math.min(p.length, at + 1 + random.nextInt(8));
                    p = concat(Arrays.copyOf(p, at), Arrays.copyOfRange(p, end, p.length));
                }
                case 2, 3 -> p = insert(p, at, TOKENS[random.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
                case 4 -> p = insert(p, at, BYTES[random.nextInt(BYTES.length)]);
                default -> {
                    // a field repeated: the last one wins in the tree
                    int from = random.nextInt(Math.max(1, p.length));
                    int to = Math.min(p.length, from + random.nextInt(24));
                    p = insert(p, at, Arrays.copyOfRange(p, from, to));
                }
            }
        }
        return p;
    }

    private static byte[] insert(byte[] p, int at, byte[] piece) {
        return concat(concat(Arrays.copyOf(p, at), piece), Arrays.copyOfRange(p, at, p.length));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Every payload of the committed fuzz inputs: the messages target's as they are, the streams' frames. */
    private static List<byte[]> corpusPayloads() throws IOException, URISyntaxException {
        Path root = Path.of(ProtocolCodecEquivalenceTest.class.getResource(CORPUS).toURI());
        List<byte[]> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                byte[] bytes = Files.readAllBytes(f);
                if (f.getParent().getFileName().toString().equals("messages")) {
                    out.add(bytes);
                    continue;
                }
                ByteBuffer in = ByteBuffer.wrap(bytes, Math.min(1, bytes.length), Math.max(0, bytes.length - 1));
                while (in.remaining() >= 4) {
                    long length = Integer.toUnsignedLong(in.getInt());
                    if (length > in.remaining()) {
                        break;
                    }
                    byte[] frame = new byte[(int) length];
                    in.get(frame);
                    out.add(frame);
                }
            }
        }
        return out;
    }

    /** Every message type, with nulls, empty lists, escapes, non-ASCII text and extreme numbers. */
    private static List<Message> samples() {
        String odd = "tab\t quote\" backslash\\ nl\n ctl\u0001 \u00e9 \u4e2d \ud83d\ude00 \u2028 </script>";
        Message.UsageInfo usage = new Message.UsageInfo(7200, 97, 80L << 30, 1234.5, 12L << 30, 14L << 30, 1_234_567, 7_654_321,
                3L << 30);
        Message.UsageInfo odder = new Message.UsageInfo(Long.MAX_VALUE, null, Long.MIN_VALUE, 1e-7, 0, -1, 0, 0, null);
        Message.UsageInfo nan = new Message.UsageInfo(0, 0, 0, Double.NaN, 0, 0, 0, 0, 0L);
        Message.UsageInfo huge = new Message.UsageInfo(0, 100, 0, 1.7976931348623157e308, 0, 0, 0, 0, 0L);
        Message.SessionInfo running = new Message.SessionInfo("s-1", "rental-0001", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "nvcr.io/nvidia/pytorch:24.05-py3", "running", List.of("GPU-0", "GPU-1"), List.of(42000, 42001), "3f4e2a9c1b7d",
                "2026-11-27T08:00:00Z", null, 3600, null, null, null, false, null, usage);
        Message.SessionInfo ended = new Message.SessionInfo("s-2", "r", "", odd, "ended", List.of(), List.of(), null,
                "2026-11-27T08:00:00Z", "2026-11-27T09:00:00.123Z", 1, odd, "exited", -137, true, "42%", odder);
        Message.SessionInfo bare = new Message.SessionInfo("s-3", "r", null, "i", "requested", List.of(), List.of(), null, null,
                null, 0, null, null, 0, false, null, null);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("B", "2");
        env.put("A", odd);
        List<Message> out = new ArrayList<>(List.of(
                new Message.Hello(List.of(1, 2), "sched", "00112233445566778899aabbccddeeff", List.of("events", odd)),
                new Message.Hello(List.of(1), null, null, null),
                new Message.Welcome(1, "0.1.0", "host", "1795082400123", List.of("offer", "events"), false,
                        "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4", "gpu-agent hello\nhost: h\nchallenge: 9f", "0x" + "ab".repeat(65)),
                new Message.Welcome(1, "bench", "host-1", "1", List.of(), true, null, null, null),
                new Message.Heartbeat("2026-11-27T10:00:00.123Z"), new Message.Heartbeat(null), new Message.GetOffer(),
                new Message.Launch("s-1", "0xab", "0xrenter", 2, List.of(), "img:1", List.of("sleep", odd), env, List.of(22, 8888),
                        "ssh-ed25519 AAAA", "1222", 3600L),
                new Message.Launch("s-1", "r", null, null, List.of("GPU-1"), "img", null, null, null, null, "5", Long.MAX_VALUE),
                new Message.Stop("s-1", odd), new Message.Stop("s-1", null), new Message.Status("s-1"), new Message.ListSessions(),
                new Message.SessionReply(running), new Message.SessionReply(ended), new Message.SessionReply(bare),
                new Message.SessionReply(new Message.SessionInfo("s-4", "r", "x", "i", "running", List.of(), List.of(), null, null,
                        null, 0, null, null, null, false, null, nan)),
                new Message.SessionReply(new Message.SessionInfo("s-5", "r", "x", "i", "running", List.of(), List.of(), null, null,
                        null, 0, null, null, null, false, null, huge)),
                new Message.Sessions(List.of(running, ended, bare), true), new Message.Sessions(List.of(), false),
                new Message.Voucher("s-1", "0xab", 10L, "12220", "0x" + "11".repeat(65)),
                new Message.VoucherAck("s-1", "0xab", 10, "1" + "0".repeat(77)),
                new Message.SessionState(running), new Message.SessionEnded(ended),
                new Message.SessionUsage("s-1", "0xab", 12, usage), new Message.SessionUsage("s-1", "0xab", 12, null),
                new Message.GpuHealth(3, "GPU-3", "unhealthy", "XID 79: GPU has fallen off the bus"),
                new Message.Drain(true, odd), new Message.Drain(false, null),
                new Message.Claim("c-1", List.of("0xab", "0xcd"), "final", "100", true, "0xtx", null),
                new Message.Error("policy_image", odd), new Message.Error("internal", null),
                new Message.StreamOpen("s-1", 7L, "tunnel", null, null, null, null, null, 8888, null, null, null, null),
                new Message.StreamOpen("s-1", 8L, "exec", List.of("sh", odd), false, 80, 24, env, null, null, null, 1024L,
                        new Message.StreamGrant(List.of("exec"), 1795082400L, "0x01", "0x" + "ab".repeat(65))),
                new Message.StreamOpened(7, "s-1", "tunnel", 262144, null),
                new Message.StreamResize(8L, 132, 43), new Message.StreamClose(7L), new Message.StreamAck(7),
                new Message.StreamClosed(8, "s-1", "exec", "exited", 0, 4, 5, odd),
                new Message.StreamClosed(7, "s-1", "tunnel", "eof", null, 0, 0, null)));
        List<Message.OfferGpu> gpus = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            gpus.add(new Message.OfferGpu(i, "GPU-" + i, "NVIDIA H100 80GB HBM3", 81559, "0000:" + i + ":00.0", i % 2 == 0 ? 5 : null,
                    16, "9.0", "healthy", i % 3 != 0, i % 3 == 0 ? null : "611"));
        }
        out.add(new Message.Offer("host-1", "eu", "bench", true, "550.54.15", "12.4", 64, 1 << 20, 2000, 10_000, false, null,
                null, null, 60, 86_400, 0, 0, gpus, 8, null));
        out.add(new Message.Offer("h", "KR", "0.1.0", false, "550", "12.4", 16, 1024, 0, 0, true, "0x5B38", "0x2791", 137L, 60,
                2_592_000, 1, 2, List.of(), 0, "2026-11-27T10:00:00.000Z"));
        assertThat(out.stream().map(MessageCodec::typeOf).distinct()).hasSize(MessageCodec.types().size());
        return out;
    }
}
