package io.gpuagent.protocol;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessageCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Envelope env(String type, String id, String body) throws Exception {
        return new Envelope(1, type, id, (ObjectNode) JSON.readTree(body));
    }

    private static ProtocolException failure(String type, String body) throws Exception {
        Envelope e = env(type, "r-1", body);
        try {
            MessageCodec.decode(e);
        } catch (ProtocolException p) {
            return p;
        }
        throw new AssertionError("decoded " + type + " " + body);
    }

    @Test
    void launchFieldsAskingForHostAccessAreRefusedNamingTheFieldNotIgnored() throws Exception {
        // issue 10 (conformance): unknown fields are ignored, so "privileged": true used to be dropped without a word
        String base = "\"session\":\"s-1\",\"rental\":\"r\",\"gpus\":1,\"image\":\"i\",\"price_per_second\":\"1\","
                + "\"max_duration_s\":60";
        for (String field : List.of("\"privileged\":true", "\"binds\":[\"/:/host\"]", "\"network_mode\":\"host\"",
                "\"CapAdd\":[\"SYS_ADMIN\"]", "\"pid-mode\":\"host\"", "\"devices\":[{\"path\":\"/dev/mem\"}]")) {
            ProtocolException e = failure("launch", "{" + base + "," + field + "}");
            assertThat(e.code()).as(field).isEqualTo(ErrorCode.POLICY_HOST_ACCESS);
            assertThat(e.getMessage()).contains(field.substring(1, field.indexOf('"', 1)));
            assertThat(e.correlationId()).isEqualTo("r-1");
        }
        // asking for nothing is no request for access: a scheduler that always sends the defaults is not refused
        Message ok = MessageCodec.decode(env("launch", "r-2", "{" + base + ",\"privileged\":false,\"cap_add\":[],"
                + "\"network_mode\":\"\",\"binds\":null}"));
        assertThat(ok).isInstanceOf(Message.Launch.class);
    }

    @Test
    void everyTypeRoundTripsThroughTheWireFormat() throws Exception {
        Message.SessionInfo info = new Message.SessionInfo("s-1", "0xab", "0xrenter", "img:1", "running", List.of("GPU-1"),
                List.of(40000), "c1", "2026-11-27T10:00:00Z", null, 12, null, null, null, false, null,
                new Message.UsageInfo(12, 50, 1024, 1.5, 2048, 4096, 1, 2, null));
        List<Message> samples = List.of(
                new Message.Hello(List.of(1), "test", "00112233445566778899aabbccddeeff", List.of("x")),
                new Message.Welcome(1, "0.1", "host", "42", List.of("offer"), true, null, null, null),
                new Message.Heartbeat("2026-11-27T10:00:00Z"),
                new Message.GetOffer(),
                new Message.Launch("s-1", "0xab", "0xrenter", 2, List.of(), "img:1", List.of("sleep", "9"), Map.of("A", "b"),
                        List.of(22), null, "1222", 3600L),
                new Message.Stop("s-1", "done"),
                new Message.Status("s-1"),
                new Message.ListSessions(),
                new Message.SessionReply(info),
                new Message.Sessions(List.of(info), false),
                new Message.Voucher("s-1", "0xab", 10L, "12220", "0x" + "11".repeat(65)),
                new Message.VoucherAck("s-1", "0xab", 10, "12220"),
                new Message.SessionState(info),
                new Message.SessionUsage("s-1", "0xab", 12, info.usage()),
                new Message.SessionEnded(info),
                new Message.GpuHealth(3, "GPU-3", "unhealthy", "XID 79"),
                new Message.Drain(true, "owner"),
                new Message.Claim("c-1", List.of("0xab"), "final", "100", true, "0xtx", null),
                new Message.Error("policy_image", "no"),
                new Message.StreamOpen("s-1", 1L, "exec", List.of("sh"), true, 80, 24, Map.of("A", "b"), null, null, null,
                        65536L, null),
                new Message.StreamOpened(1, "s-1", "exec", 262144, true),
                new Message.StreamResize(1L, 100, 40),
                new Message.StreamClose(1L),
                new Message.StreamAck(1),
                new Message.StreamClosed(1, "s-1", "exec", "exited", 3, 10, 20, null),
                new Message.Offer("h", "eu", "0.1", true, "550", "12.4", 16, 1024, 0, 0, false, null, null, null, 60, 3600,
                        0, 0, List.of(new Message.OfferGpu(0, "GPU-0", "NVIDIA H100", 81559, "0000:18:00.0", 5, 16, "9.0",
                        "healthy", true, "611")), 1, "2026-11-27T10:00:00Z"));
        assertThat(samples.stream().map(MessageCodec::typeOf).distinct()).hasSize(MessageCodec.types().size());
        for (Message m : samples) {
            Envelope wire = EnvelopeCodec.decode(EnvelopeCodec.encode(MessageCodec.encode(m, "id-1")));
            assertThat(MessageCodec.decode(wire)).as(MessageCodec.typeOf(m)).isEqualTo(m);
        }
    }

    @Test
    void fieldsAreSnakeCaseOnTheWire() {
        byte[] bytes = EnvelopeCodec.encode(MessageCodec.encode(new Message.Launch("s-1", "r", null, null, List.of("GPU-1"),
                "img", null, null, null, "ssh-ed25519 AAAA", "5", 60L), "c-1"));
        assertThat(new String(bytes, StandardCharsets.UTF_8)).contains("\"gpu_uuids\":[\"GPU-1\"]")
                .contains("\"price_per_second\":\"5\"").contains("\"max_duration_s\":60").contains("\"ssh_key\"")
                .doesNotContain("\"gpus\":null");
    }

    @Test
    void unknownFieldsAreIgnored() throws Exception {
        Message m = MessageCodec.decode(env("status", "r", "{\"session\":\"s-1\",\"future_field\":[1,2]}"));
        assertThat(m).isEqualTo(new Message.Status("s-1"));
    }

    @Test
    void unknownTypesAreRefusedWithTheRequestId() throws Exception {
        ProtocolException e = failure("launch_v2", "{}");
        assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_TYPE);
        assertThat(e.correlationId()).isEqualTo("r-1");
    }

    @Test
    void missingRequiredFieldsAreNamed() throws Exception {
        ProtocolException e = failure("launch", "{\"session\":\"s\",\"rental\":\"r\",\"gpus\":1,\"price_per_second\":\"1\","
                + "\"max_duration_s\":60}");
        assertThat(e.code()).isEqualTo(ErrorCode.MISSING_FIELD);
        assertThat(e.getMessage()).contains("\"image\"");
        assertThat(failure("status", "{}").code()).isEqualTo(ErrorCode.MISSING_FIELD);
        assertThat(failure("hello", "{}").getMessage()).contains("versions");
    }

    @Test
    void aLaunchAsksForAMigProfileOrATopologyAndContradictionsAreNamed() throws Exception {
        String base = "\"session\":\"s\",\"rental\":\"r\",\"image\":\"i\",\"price_per_second\":\"88\",\"max_duration_s\":60";
        Message.Launch slice = (Message.Launch) MessageCodec.decode(env("launch", "r-1", "{" + base
                + ",\"mig_profile\":\"1g.10gb+me\"}"));
        assertThat(slice.migProfile()).isEqualTo("1g.10gb+me");
        assertThat(slice.gpus()).isNull();
        Message.Launch pair = (Message.Launch) MessageCodec.decode(env("launch", "r-1", "{" + base
                + ",\"gpus\":2,\"topology\":\"nvlink\"}"));
        assertThat(pair.topology()).isEqualTo("nvlink");
        assertThat(failure("launch", "{" + base + ",\"mig_profile\":\"10gb\"}").getMessage()).contains("mig_profile");
        assertThat(failure("launch", "{" + base + ",\"mig_profile\":\"1g.10gb\",\"gpus\":1}").getMessage())
                .contains("mig_profile").contains("without gpus");
        assertThat(failure("launch", "{" + base + ",\"gpus\":2,\"topology\":\"nvswitch\"}").code())
                .isEqualTo(ErrorCode.WRONG_TYPE);
        assertThat(failure("launch", "{" + base + "}").getMessage()).contains("mig_profile");
    }

    @Test
    void everyMalformedSessionIdIsPolicySessionIdNamingTheValue() throws Exception {
        // issue 10, item 9: a '/' got wrong_type from the codec, other bad ids policy_session_id from the policy
        String rest = "\"rental\":\"r\",\"image\":\"i\",\"price_per_second\":\"1\",\"max_duration_s\":60,\"gpus\":1";
        for (String bad : new String[] {"../etc", "a/b", "", "a b", "x".repeat(129), "s\\u0000"}) {
            for (String[] req : new String[][] {{"status", "{\"session\":\"" + bad + "\"}"},
                    {"stop", "{\"session\":\"" + bad + "\"}"}, {"launch", "{\"session\":\"" + bad + "\"," + rest + "}"}}) {
                ProtocolException e = failure(req[0], req[1]);
                assertThat(e.code()).as(req[0] + " " + bad).isEqualTo(ErrorCode.POLICY_SESSION_ID);
                assertThat(e.code().wire()).isEqualTo("policy_session_id");
                assertThat(e.getMessage()).contains("session").contains("\"" + bad.replace("\\u0000", "\\u0000")
                        .substring(0, Math.min(bad.length(), 8)));
            }
        }
        // a session id of the wrong JSON type is still wrong_type: the type rule comes before the id rule
        assertThat(failure("status", "{\"session\":7}").code()).isEqualTo(ErrorCode.WRONG_TYPE);
    }

    @Test
    void wronglyTypedFieldsAreNeverCoerced() throws Exception {
        String base = "\"session\":\"s\",\"rental\":\"r\",\"image\":\"i\",\"price_per_second\":\"1\",\"max_duration_s\":60";
        ProtocolException e = failure("launch", "{" + base + ",\"gpus\":\"2\"}");
        assertThat(e.code()).isEqualTo(ErrorCode.WRONG_TYPE);
        assertThat(e.getMessage()).contains("gpus");
        assertThat(failure("launch", "{" + base + ",\"gpus\":1.5}").code()).isEqualTo(ErrorCode.WRONG_TYPE);
        assertThat(failure("launch", "{" + base.replace("\"1\"", "1") + ",\"gpus\":1}").code()).isEqualTo(ErrorCode.WRONG_TYPE);
        assertThat(failure("launch", "{" + base + ",\"gpus\":1,\"env\":{\"A\":[1]}}").code()).isEqualTo(ErrorCode.WRONG_TYPE);
        assertThat(failure("launch", "{" + base + ",\"gpus\":-1}").code()).isEqualTo(ErrorCode.WRONG_TYPE);
        assertThat(failure("launch", "{" + base.replace("\"1\"", "\"1e9\"") + ",\"gpus\":1}").getMessage())
                .contains("price_per_second");
        assertThat(failure("voucher", "{\"session\":\"s\",\"rental\":\"r\",\"cumulative_seconds\":1,"
                + "\"cumulative_amount\":\"-5\",\"signature\":\"0x\"}").getMessage()).contains("cumulative_amount");
        assertThat(failure("hello", "{\"versions\":[1],\"challenge\":\"zz\"}").getMessage()).contains("challenge");
    }

    @Test
    void aWrongBodyChangesNothingInTheCodecAndTheNextMessageStillDecodes() throws Exception {
        failure("launch", "{\"gpus\":{}}");
        assertThat(MessageCodec.decode(env("list", "r", "{}"))).isEqualTo(new Message.ListSessions());
    }

    @Test
    void encodingAnUnregisteredClassIsAProgrammingError() {
        assertThatThrownBy(() -> MessageCodec.typeOf(Message.class)).isInstanceOf(IllegalArgumentException.class);
    }
}
