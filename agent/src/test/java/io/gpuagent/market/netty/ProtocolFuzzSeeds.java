package io.gpuagent.market.netty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the seed corpus of {@link ProtocolDecoderFuzzTest}: one file per input, named for what it
 * holds, under {@code ProtocolDecoderFuzzTestInputs/<target>/}. Run once and commit the files
 * (docs/fuzzing.md); inputs found by fuzzing are added beside them by hand. Rerunning rewrites
 * the seeds and leaves other files alone.
 *
 * <pre>java -cp agent/target/test-classes:agent/target/classes io.gpuagent.market.netty.ProtocolFuzzSeeds [dir]</pre>
 */
public final class ProtocolFuzzSeeds {
    private static final String DEFAULT_DIR = "agent/src/test/resources/io/gpuagent/market/netty/ProtocolDecoderFuzzTestInputs";
    private static final int MAX_PAYLOAD = 4096;
    private static final String CHALLENGE = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    private ProtocolFuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : DEFAULT_DIR);
        Map<String, byte[]> payloads = payloads();
        for (Map.Entry<String, byte[]> p : payloads.entrySet()) {
            write(dir.resolve("messages"), p.getKey(), p.getValue());
        }
        for (Map.Entry<String, byte[]> s : streams(payloads).entrySet()) {
            write(dir.resolve("framesAndEnvelopes"), s.getKey(), s.getValue());
            write(dir.resolve("schedulerHandler"), s.getKey(), s.getValue());
        }
        System.out.println(payloads.size() + " payloads, " + streams(payloads).size() + " streams under " + dir);
    }

    private static void write(Path dir, String name, byte[] bytes) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), bytes);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String env(String type, String id, String body) {
        return "{\"v\":1,\"type\":\"" + type + "\"" + (id == null ? "" : ",\"id\":\"" + id + "\"") + ",\"body\":" + body + "}";
    }

    private static final String HELLO = env("hello", "h-1", "{\"versions\":[1],\"scheduler\":\"sched-eu\",\"challenge\":\""
            + CHALLENGE + "\",\"capabilities\":[\"offer\",\"vouchers\"]}");
    private static final String LAUNCH_BODY = "{\"session\":\"s-1\",\"rental\":\"0xabc\",\"renter\":\"0xdef\",\"gpus\":1,"
            + "\"gpu_uuids\":[\"GPU-0\"],\"image\":\"nvidia/cuda:12.4.1-base\",\"command\":[\"sleep\",\"60\"],"
            + "\"env\":{\"A\":\"b\"},\"ports\":[22,8888],\"ssh_key\":\"ssh-ed25519 AAAAC3 renter\","
            + "\"price_per_second\":\"611\",\"max_duration_s\":3600}";
    private static final String LAUNCH = env("launch", "c-2", LAUNCH_BODY);
    private static final String STOP = env("stop", "c-3", "{\"session\":\"s-1\",\"reason\":\"renter_stopped\"}");

    /** Frame payloads: every request, messages the agent must refuse, and each class of bad input. */
    static Map<String, byte[]> payloads() {
        Map<String, byte[]> p = new LinkedHashMap<>();
        // well-formed requests
        p.put("hello", utf8(HELLO));
        p.put("hello-minimal", utf8(env("hello", "h-2", "{\"versions\":[1]}")));
        p.put("hello-0x-challenge", utf8(env("hello", "h-3", "{\"versions\":[2,1],\"challenge\":\"0x" + CHALLENGE + "\"}")));
        p.put("hello-unsupported-version", utf8(env("hello", "h-4", "{\"versions\":[2,3]}")));
        p.put("launch", utf8(LAUNCH));
        p.put("launch-minimal", utf8(env("launch", "c-4", "{\"session\":\"s-2\",\"rental\":\"r\",\"gpus\":0,\"image\":\"i\","
                + "\"price_per_second\":\"0\",\"max_duration_s\":1}")));
        p.put("launch-by-uuid", utf8(env("launch", "c-5", "{\"session\":\"s-3\",\"rental\":\"r\",\"gpu_uuids\":[\"GPU-1\"],"
                + "\"image\":\"i\",\"price_per_second\":\"1\",\"max_duration_s\":60}")));
        p.put("launch-mig-profile", utf8(env("launch", "c-50", "{\"session\":\"s-4\",\"rental\":\"r\",\"mig_profile\":\"1g.10gb\","
                + "\"image\":\"i\",\"price_per_second\":\"88\",\"max_duration_s\":60}")));
        p.put("launch-mig-uuid", utf8(env("launch", "c-51", "{\"session\":\"s-5\",\"rental\":\"r\",\"gpu_uuids\":"
                + "[\"MIG-5c1b0d2e-9f3a-5e21-8c4d-1a2b3c4d5e6f\"],\"image\":\"i\",\"price_per_second\":\"262\",\"max_duration_s\":60}")));
        p.put("launch-topology", utf8(env("launch", "c-52", "{\"session\":\"s-6\",\"rental\":\"r\",\"gpus\":2,"
                + "\"topology\":\"nvlink\",\"image\":\"i\",\"price_per_second\":\"1222\",\"max_duration_s\":60}")));
        p.put("launch-mig-profile-and-gpus", utf8(env("launch", "c-53", "{\"session\":\"s-7\",\"rental\":\"r\","
                + "\"mig_profile\":\"3g.40gb\",\"gpus\":1,\"image\":\"i\",\"price_per_second\":\"1\",\"max_duration_s\":60}")));
        // streams (negotiated in hello)
        p.put("stream-open-shell", utf8(env("stream.open", "c-60", "{\"session\":\"s-1\",\"stream\":1,\"kind\":\"exec\","
                + "\"tty\":true,\"cols\":120,\"rows\":40,\"env\":{\"LANG\":\"C.UTF-8\"},\"window\":262144}")));
        p.put("stream-open-command", utf8(env("stream.open", "c-61", "{\"session\":\"s-1\",\"stream\":2,\"kind\":\"exec\","
                + "\"command\":[\"sh\",\"-c\",\"echo hi; exit 3\"]}")));
        p.put("stream-open-tunnel", utf8(env("stream.open", "c-62", "{\"session\":\"s-1\",\"stream\":3,\"kind\":\"tunnel\","
                + "\"port\":8888}")));
        p.put("stream-open-tunnel-no-port", utf8(env("stream.open", "c-63", "{\"session\":\"s-1\",\"stream\":3,\"kind\":\"tunnel\"}")));
        p.put("stream-open-logs", utf8(env("stream.open", "c-64", "{\"session\":\"s-1\",\"stream\":4,\"kind\":\"logs\","
                + "\"tail\":100,\"follow\":true}")));
        p.put("stream-open-bad-kind", utf8(env("stream.open", "c-65", "{\"session\":\"s-1\",\"stream\":5,\"kind\":\"ssh\"}")));
        p.put("stream-open-stream-0", utf8(env("stream.open", "c-66", "{\"session\":\"s-1\",\"stream\":0,\"kind\":\"logs\"}")));
        p.put("stream-open-stream-2-31", utf8(env("stream.open", "c-67", "{\"session\":\"s-1\",\"stream\":2147483648,"
                + "\"kind\":\"logs\"}")));
        p.put("stream-open-window-small", utf8(env("stream.open", "c-68", "{\"session\":\"s-1\",\"stream\":6,\"kind\":\"logs\","
                + "\"window\":1023}")));
        p.put("stream-open-grant", utf8(env("stream.open", "c-69", "{\"session\":\"s-1\",\"stream\":7,\"kind\":\"exec\","
                + "\"grant\":{\"kinds\":[\"exec\"],\"expires\":1795082400,\"nonce\":\"0x01\",\"signature\":\"0x"
                + "ab".repeat(65) + "\"}}")));
        p.put("stream-resize", utf8(env("stream.resize", "c-70", "{\"stream\":1,\"cols\":132,\"rows\":43}")));
        p.put("stream-resize-1001", utf8(env("stream.resize", "c-71", "{\"stream\":1,\"cols\":1001,\"rows\":43}")));
        p.put("stream-close", utf8(env("stream.close", "c-72", "{\"stream\":1}")));
        p.put("stream-closed-to-agent", utf8(env("stream.closed", null, "{\"stream\":1,\"reason\":\"eof\",\"bytes_in\":0,"
                + "\"bytes_out\":0}")));
        p.put("stop", utf8(STOP));
        p.put("stop-no-reason", utf8(env("stop", "c-6", "{\"session\":\"s-1\"}")));
        p.put("status", utf8(env("status", "c-7", "{\"session\":\"s-1\"}")));
        p.put("status-unknown-session", utf8(env("status", "c-8", "{\"session\":\"nope\"}")));
        p.put("list", utf8(env("list", "c-9", "{}")));
        p.put("offer-get", utf8(env("offer.get", "c-10", "{}")));
        p.put("voucher", utf8(env("voucher", "c-11", "{\"session\":\"s-1\",\"rental\":\"0xabc\",\"cumulative_seconds\":60,"
                + "\"cumulative_amount\":\"36660\",\"signature\":\"0x" + "ab".repeat(65) + "\"}")));
        p.put("heartbeat-request", utf8(env("heartbeat", "c-12", "{\"time\":\"2026-11-27T00:00:00Z\"}")));
        p.put("heartbeat-event", utf8(env("heartbeat", null, "{}")));
        p.put("body-absent", utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-13\"}"));
        p.put("body-null", utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-14\",\"body\":null}"));
        p.put("unknown-top-level-field", utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-15\",\"body\":{},\"trace\":[1,{\"a\":2}]}"));
        // messages the agent sends, sent to it: refused unread
        p.put("welcome-to-agent", utf8(env("welcome", "c-16", "{\"version\":1,\"agent_version\":\"x\",\"host_id\":\"h\","
                + "\"epoch\":\"1\",\"capabilities\":[],\"simulated\":true}")));
        p.put("error-to-agent", utf8(env("error", null, "{\"code\":\"internal\",\"message\":\"x\"}")));
        p.put("session-state-to-agent", utf8(env("session.state", "c-17", "{\"session\":{\"session\":\"s-1\",\"state\":\"running\","
                + "\"billed_seconds\":5,\"oom_killed\":false}}")));
        p.put("drain-to-agent", utf8(env("drain", null, "{\"draining\":true,\"reason\":\"x\"}")));
        // malformed JSON and non-objects
        p.put("malformed-json", utf8("{\"v\":1,\"type\":"));
        p.put("not-json", utf8("GET / HTTP/1.1\r\nHost: agent\r\n\r\n"));
        p.put("json-array", utf8("[1,2,3]"));
        p.put("json-string", utf8("\"hello\""));
        p.put("json-null", utf8("null"));
        p.put("whitespace", utf8(" \t\r\n "));
        p.put("trailing-garbage", utf8(env("list", "c-18", "{}") + "}}garbage"));
        p.put("two-objects", utf8(env("list", "c-19", "{}") + env("list", "c-20", "{}")));
        p.put("nesting-64", utf8(nested(63)));
        p.put("nesting-65", utf8(nested(64)));
        p.put("nesting-65-with-id", utf8("{\"id\":\"c-21\",\"v\":1,\"type\":\"list\",\"body\":{\"x\":" + "[".repeat(63)
                + "]".repeat(63) + "}}"));
        // invalid UTF-8
        p.put("utf8-invalid-byte", bytes(utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-22\",\"body\":{\"x\":\""), new byte[]{(byte) 0xff},
                utf8("\"}}")));
        p.put("utf8-overlong", bytes(utf8("{\"v\":1,\"type\":\"list\",\"id\":\""), new byte[]{(byte) 0xc0, (byte) 0xaf}, utf8("\"}")));
        p.put("utf8-surrogate-bytes", bytes(utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-23\",\"body\":{\"x\":\""),
                new byte[]{(byte) 0xed, (byte) 0xa0, (byte) 0x80}, utf8("\"}}")));
        p.put("utf8-truncated", bytes(utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-24\"}"), new byte[]{(byte) 0xe2, (byte) 0x82}));
        p.put("utf8-bom", bytes(new byte[]{(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, utf8(env("list", "c-25", "{}"))));
        // wrong types and values in the envelope
        p.put("v-string", utf8("{\"v\":\"1\",\"type\":\"list\",\"id\":\"c-26\"}"));
        p.put("v-float", utf8("{\"v\":1.0,\"type\":\"list\",\"id\":\"c-27\"}"));
        p.put("v-2", utf8("{\"v\":2,\"type\":\"list\",\"id\":\"c-28\"}"));
        p.put("v-overflow", utf8("{\"v\":4294967297,\"type\":\"list\",\"id\":\"c-29\"}"));
        p.put("v-missing", utf8("{\"type\":\"list\",\"id\":\"c-30\"}"));
        p.put("type-number", utf8("{\"v\":1,\"type\":5,\"id\":\"c-31\"}"));
        p.put("type-uppercase", utf8("{\"v\":1,\"type\":\"Launch\",\"id\":\"c-32\"}"));
        p.put("type-missing", utf8("{\"v\":1,\"id\":\"c-33\"}"));
        p.put("type-65-chars", utf8("{\"v\":1,\"type\":\"a" + "b".repeat(64) + "\",\"id\":\"c-34\"}"));
        p.put("id-number", utf8("{\"v\":1,\"type\":\"list\",\"id\":7}"));
        p.put("id-empty", utf8("{\"v\":1,\"type\":\"list\",\"id\":\"\"}"));
        p.put("id-128-chars", utf8(env("list", "i".repeat(128), "{}")));
        p.put("id-129-chars", utf8(env("list", "i".repeat(129), "{}")));
        p.put("id-null", utf8("{\"v\":1,\"type\":\"list\",\"id\":null}"));
        p.put("body-array", utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-35\",\"body\":[]}"));
        // unknown types
        p.put("unknown-type", utf8(env("reboot", "c-36", "{}")));
        p.put("unknown-type-dotted", utf8(env("launch.v2", "c-37", LAUNCH_BODY)));
        // wrong types and values in bodies
        p.put("hello-versions-empty", utf8(env("hello", "h-5", "{\"versions\":[]}")));
        p.put("hello-versions-strings", utf8(env("hello", "h-6", "{\"versions\":[\"1\"]}")));
        p.put("hello-versions-null-element", utf8(env("hello", "h-7", "{\"versions\":[1,null]}")));
        p.put("hello-versions-missing", utf8(env("hello", "h-8", "{}")));
        p.put("hello-challenge-short", utf8(env("hello", "h-9", "{\"versions\":[1],\"challenge\":\"abcd\"}")));
        p.put("launch-gpus-string", utf8(env("launch", "c-38", LAUNCH_BODY.replace("\"gpus\":1", "\"gpus\":\"1\""))));
        p.put("launch-gpus-float", utf8(env("launch", "c-39", LAUNCH_BODY.replace("\"gpus\":1", "\"gpus\":1.5"))));
        p.put("launch-gpus-negative", utf8(env("launch", "c-40", LAUNCH_BODY.replace("\"gpus\":1", "\"gpus\":-1"))));
        p.put("launch-gpus-1025", utf8(env("launch", "c-41", LAUNCH_BODY.replace("\"gpus\":1", "\"gpus\":1025"))));
        p.put("launch-price-number", utf8(env("launch", "c-42", LAUNCH_BODY.replace("\"611\"", "611"))));
        p.put("launch-price-negative", utf8(env("launch", "c-43", LAUNCH_BODY.replace("\"611\"", "\"-611\""))));
        p.put("launch-duration-zero", utf8(env("launch", "c-44", LAUNCH_BODY.replace("3600", "0"))));
        p.put("launch-duration-string", utf8(env("launch", "c-45", LAUNCH_BODY.replace("3600", "\"3600\""))));
        p.put("launch-duration-1e400", utf8(env("launch", "c-46", LAUNCH_BODY.replace("3600", "1e400"))));
        p.put("launch-duration-long-overflow", utf8(env("launch", "c-47", LAUNCH_BODY.replace("3600", "9223372036854775808"))));
        p.put("launch-env-null-value", utf8(env("launch", "c-48", LAUNCH_BODY.replace("\"b\"", "null"))));
        p.put("launch-command-null-element", utf8(env("launch", "c-49", LAUNCH_BODY.replace("\"sleep\"", "null"))));
        p.put("launch-env-array", utf8(env("launch", "c-50", LAUNCH_BODY.replace("{\"A\":\"b\"}", "[\"A=b\"]"))));
        p.put("launch-session-bad-chars", utf8(env("launch", "c-51", LAUNCH_BODY.replace("\"s-1\"", "\"../etc\""))));
        p.put("launch-session-missing", utf8(env("launch", "c-52", LAUNCH_BODY.replace("\"session\":\"s-1\",", ""))));
        p.put("launch-image-object", utf8(env("launch", "c-53", LAUNCH_BODY.replace("\"nvidia/cuda:12.4.1-base\"", "{}"))));
        p.put("stop-session-number", utf8(env("stop", "c-54", "{\"session\":12}")));
        p.put("voucher-negative-seconds", utf8(env("voucher", "c-55", "{\"session\":\"s-1\",\"rental\":\"r\","
                + "\"cumulative_seconds\":-1,\"cumulative_amount\":\"1\",\"signature\":\"0x\"}")));
        p.put("voucher-amount-79-digits", utf8(env("voucher", "c-56", "{\"session\":\"s-1\",\"rental\":\"r\","
                + "\"cumulative_seconds\":1,\"cumulative_amount\":\"" + "9".repeat(79) + "\",\"signature\":\"0x\"}")));
        p.put("drain-to-agent-boolean-string", utf8(env("drain", null, "{\"draining\":\"true\"}")));
        // unicode escapes
        p.put("unicode-escaped-type", utf8("{\"v\":1,\"type\":\"\\u006caunch\",\"id\":\"c-57\",\"body\":" + LAUNCH_BODY + "}"));
        p.put("unicode-escaped-id-nul", utf8(env("list", "c\\u0000-58", "{}")));
        p.put("unicode-lone-surrogate-in-body", utf8(env("list", "c-59", "{\"x\":\"\\ud800\"}")));
        p.put("unicode-lone-surrogate-id", utf8(env("list", "\\udc00", "{}")));
        p.put("unicode-lone-surrogate-id-unknown-type", utf8(env("reboot", "\\ud800", "{}")));
        p.put("unicode-pair-escaped", utf8(env("stop", "c-60", "{\"session\":\"s-1\",\"reason\":\"\\ud83d\\ude00\"}")));
        p.put("unicode-raw-multibyte", utf8(env("stop", "c-61", "{\"session\":\"s-1\",\"reason\":\"Grüße 😀 中文\"}")));
        // duplicate keys
        p.put("duplicate-v", utf8("{\"v\":2,\"v\":1,\"type\":\"list\",\"id\":\"c-62\"}"));
        p.put("duplicate-type", utf8("{\"v\":1,\"type\":\"list\",\"type\":\"launch\",\"id\":\"c-63\",\"body\":" + LAUNCH_BODY + "}"));
        p.put("duplicate-id", utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-64\",\"id\":7}"));
        p.put("duplicate-body-field", utf8(env("stop", "c-65", "{\"session\":\"s-1\",\"session\":\"s-2\"}")));
        // numbers
        // regression: 1e400 was accepted and re-encoded as the string "Infinity"
        p.put("regression-1e400-reencoded-as-string", utf8(env("list", "c-66", "{\"x\":1e400}")));
        p.put("number-minus-1e400-in-body", utf8(env("list", "c-67", "{\"x\":-1e400}")));
        p.put("number-minus-zero", utf8("{\"v\":1,\"type\":\"list\",\"id\":\"c-68\",\"body\":{\"a\":-0,\"b\":-0.0,\"c\":0e-5}}"));
        p.put("v-minus-zero", utf8("{\"v\":-0,\"type\":\"list\",\"id\":\"c-69\"}"));
        p.put("number-huge-integer", utf8(env("list", "c-70", "{\"x\":" + "9".repeat(900) + "}")));
        p.put("number-too-long", utf8(env("list", "c-71", "{\"x\":" + "9".repeat(1100) + "}")));
        p.put("number-tiny", utf8(env("list", "c-72", "{\"x\":1e-400,\"y\":4.9e-324}")));
        p.put("number-nan-token", utf8(env("list", "c-73", "{\"x\":NaN}")));
        p.put("number-leading-zero", utf8("{\"v\":01,\"type\":\"list\",\"id\":\"c-74\"}"));
        // long strings near the limit
        p.put("long-string-at-limit", utf8(padded(MAX_PAYLOAD)));
        p.put("long-string-over-limit", utf8(padded(MAX_PAYLOAD + 1)));
        p.put("long-reason-257", utf8(env("stop", "c-75", "{\"session\":\"s-1\",\"reason\":\"" + "r".repeat(257) + "\"}")));
        return p;
    }

    /** Streams: a cut byte, then frames. */
    static Map<String, byte[]> streams(Map<String, byte[]> payloads) {
        Map<String, byte[]> s = new LinkedHashMap<>();
        byte[] hello = payloads.get("hello");
        // every payload alone, in one read, after a hello
        for (Map.Entry<String, byte[]> p : payloads.entrySet()) {
            if (p.getValue().length <= MAX_PAYLOAD && !p.getKey().equals("hello")) {
                s.put("after-hello-" + p.getKey(), stream(0, frame(hello), frame(p.getValue())));
            }
        }
        byte[] session = bytes(frame(hello), frame(payloads.get("launch")), frame(payloads.get("status")),
                frame(payloads.get("list")), frame(payloads.get("offer-get")), frame(payloads.get("voucher")),
                frame(payloads.get("heartbeat-request")), frame(payloads.get("stop")));
        s.put("session-one-read", stream(0, session));
        s.put("session-byte-by-byte", stream(1, session));
        s.put("session-small-reads", stream(7, session));
        s.put("session-large-reads", stream(0x83, session));
        s.put("launch-before-hello", stream(0, frame(payloads.get("launch")), frame(hello), frame(payloads.get("stop"))));
        s.put("hello-without-id-then-launch", stream(0, frame(utf8(env("hello", null, "{\"versions\":[1]}"))),
                frame(payloads.get("launch"))));
        s.put("hello-unsupported-then-launch", stream(0, frame(payloads.get("hello-unsupported-version")),
                frame(payloads.get("launch"))));
        s.put("duplicate-ids", stream(3, frame(hello), frame(payloads.get("launch")), frame(payloads.get("launch")),
                frame(payloads.get("stop")), frame(payloads.get("stop"))));
        s.put("bad-frames-then-served", stream(5, frame(hello), frame(payloads.get("malformed-json")),
                frame(payloads.get("utf8-invalid-byte")), frame(payloads.get("nesting-65")), frame(payloads.get("launch"))));
        s.put("empty-frame", stream(0, frame(new byte[0])));
        s.put("empty-frames-then-launch", stream(2, frame(new byte[0]), frame(hello), frame(new byte[0]),
                frame(payloads.get("launch"))));
        s.put("prefix-7fffffff", stream(0, prefix(0x7fffffff)));
        s.put("prefix-ffffffff", stream(0, prefix(0xffffffff)));
        s.put("prefix-80000000-with-bytes", stream(0, prefix(0x80000000), new byte[16]));
        s.put("hello-then-prefix-7fffffff", stream(0, frame(hello), prefix(0x7fffffff), frame(payloads.get("launch"))));
        s.put("hello-then-prefix-ffffffff-split", stream(3, frame(hello), prefix(0xffffffff), frame(payloads.get("launch"))));
        s.put("prefix-one-over-limit", stream(0, prefix(MAX_PAYLOAD + 1)));
        // regression: an oversized frame that arrived whole was skipped and the launch behind it run
        s.put("regression-launch-served-after-oversized-frame", stream(0, frame(hello), frame(payloads.get("long-string-over-limit")),
                frame(payloads.get("launch"))));
        s.put("oversized-whole-frame-then-launch-large-reads", stream(0xff, frame(hello),
                frame(payloads.get("long-string-over-limit")), frame(payloads.get("launch"))));
        s.put("payload-at-limit", stream(0x90, frame(hello), frame(payloads.get("long-string-at-limit")),
                frame(payloads.get("launch"))));
        s.put("truncated-prefix", stream(0, new byte[]{0, 0}));
        s.put("truncated-frame", stream(0, frame(hello), prefix(100), utf8("{\"v\":1,\"type\":\"list\"")));
        s.put("truncated-after-launch", stream(1, frame(hello), frame(payloads.get("launch")), prefix(40)));
        s.put("flood-of-lists", stream(0x80, repeat(frame(payloads.get("list")), 60)));
        return s;
    }

    private static String nested(int depth) {
        // the envelope object is one level; the body another; then `depth - 1` arrays
        return "{\"v\":1,\"type\":\"list\",\"body\":{\"x\":" + "[".repeat(depth - 1) + "]".repeat(depth - 1) + "}}";
    }

    /** A valid list request whose payload is exactly {@code size} bytes. */
    private static String padded(int size) {
        String head = "{\"v\":1,\"type\":\"list\",\"id\":\"c-big\",\"body\":{\"pad\":\"";
        String tail = "\"}}";
        return head + "p".repeat(size - head.length() - tail.length()) + tail;
    }

    private static byte[] frame(byte[] payload) {
        return ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload).array();
    }

    private static byte[] prefix(long length) {
        return ByteBuffer.allocate(4).putInt((int) length).array();
    }

    private static byte[] stream(int cut, byte[]... parts) {
        return bytes(new byte[]{(byte) cut}, bytes(parts));
    }

    private static byte[] repeat(byte[] b, int n) {
        byte[][] parts = new byte[n][];
        java.util.Arrays.fill(parts, b);
        return bytes(parts);
    }

    private static byte[] bytes(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
