package io.gpuagent.container.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.command.CreateContainerCmdImpl;
import io.gpuagent.container.ContainerSpec;
import io.gpuagent.container.GpuAttachMode;
import io.gpuagent.container.SpecBuilder;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The create request's JSON body, as docker-java will send it, for each spec field. */
class ContainerSpecMapperTest {
    private static final ObjectMapper WIRE = DockerClientConfig.getDefaultObjectMapper();
    private static final String A = "GPU-1b6e5d2a-58c1-4a07-9a2e-0c1f6b0e7a11";
    private static final String B = "GPU-7c0f1e3b-2d44-4b8e-8f51-93a2d6c4e822";

    /** The body docker-java sends, less its explicit nulls (the engine reads null as unset). */
    private static JsonNode body(ContainerSpec spec) {
        CreateContainerCmdImpl cmd = new CreateContainerCmdImpl(c -> null, null, spec.image());
        return withoutNulls(WIRE.valueToTree(ContainerSpecMapper.apply(spec, cmd)));
    }

    private static JsonNode withoutNulls(JsonNode n) {
        if (n.isObject()) {
            ObjectNode o = (ObjectNode) n;
            List<String> nulls = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                if (e.getValue().isNull()) {
                    nulls.add(e.getKey());
                } else {
                    withoutNulls(e.getValue());
                }
            }
            o.remove(nulls);
        } else if (n.isArray()) {
            n.forEach(ContainerSpecMapperTest::withoutNulls);
        }
        return n;
    }

    private static SpecBuilder base() {
        return new SpecBuilder("s-1", "example/cuda:12", "s-1-net");
    }

    @Test
    void nvidiaModeIsOneDeviceRequestForExactlyTheseGpus() {
        JsonNode h = body(base().gpus(GpuAttachMode.NVIDIA, A, B).build()).get("HostConfig");
        assertThat(h.get("DeviceRequests").toString()).isEqualTo(
                "[{\"Driver\":\"nvidia\",\"DeviceIDs\":[\"" + A + "\",\"" + B + "\"],\"Capabilities\":[[\"gpu\"]]}]");
    }

    @Test
    void cdiModeNamesEachGpuAsACdiDevice() {
        JsonNode h = body(base().gpus(GpuAttachMode.CDI, A).build()).get("HostConfig");
        assertThat(h.get("DeviceRequests").toString()).isEqualTo(
                "[{\"Driver\":\"cdi\",\"DeviceIDs\":[\"nvidia.com/gpu=" + A + "\"]}]");
    }

    @Test
    void noneModeRequestsNoDevice() {
        JsonNode h = body(base().build()).get("HostConfig");
        assertThat(h.get("DeviceRequests").isEmpty()).isTrue();
    }

    @Test
    void everyLimitAndSecurityFieldIsSetAndNothingHostSharedIs() {
        JsonNode b = body(base().command("python", "train.py").env("A", "1").label("io.gpuagent.session", "s-1")
                .memoryBytes(8L << 30).nanoCpus(4_000_000_000L).pidsLimit(512).diskBytes(50L << 30)
                .capAdd("CHOWN", "CAP_SETUID").securityOpts("no-new-privileges:true")
                .port(22, "tcp", "0.0.0.0", 40022).build());
        JsonNode h = b.get("HostConfig");
        assertThat(b.get("Image").asText()).isEqualTo("example/cuda:12");
        assertThat(b.get("Cmd").toString()).isEqualTo("[\"python\",\"train.py\"]");
        assertThat(b.get("Env").toString()).isEqualTo("[\"A=1\"]");
        assertThat(b.get("Labels").get("io.gpuagent.session").asText()).isEqualTo("s-1");
        assertThat(b.get("ExposedPorts").has("22/tcp")).isTrue();
        assertThat(h.get("Privileged").asBoolean(true)).isFalse();
        assertThat(h.get("Memory").asLong()).isEqualTo(8L << 30);
        assertThat(h.get("MemorySwap").asLong()).isEqualTo(8L << 30);
        assertThat(h.get("NanoCpus").asLong()).isEqualTo(4_000_000_000L);
        assertThat(h.get("PidsLimit").asLong()).isEqualTo(512);
        assertThat(h.get("StorageOpt").toString()).isEqualTo("{\"size\":\"" + (50L << 30) + "\"}");
        assertThat(h.get("CapDrop").toString()).isEqualTo("[\"ALL\"]");
        assertThat(h.get("CapAdd").toString()).isEqualTo("[\"CHOWN\",\"SETUID\"]");
        assertThat(h.get("SecurityOpt").toString()).isEqualTo("[\"no-new-privileges:true\"]");
        assertThat(h.get("NetworkMode").asText()).isEqualTo("s-1-net");
        assertThat(h.get("PortBindings").toString()).isEqualTo("{\"22/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"40022\"}]}");
        for (String never : new String[]{"Binds", "Mounts", "VolumesFrom", "Devices", "PidMode", "IpcMode", "UTSMode",
                "UsernsMode", "CgroupnsMode", "Runtime"}) {
            assertThat(h.has(never)).as(never).isFalse();
        }
    }

    @Test
    void theLogIsJsonFileCappedInExactBytesAndFilesWhateverTheDaemonDefault() {
        JsonNode h = body(base().log(10L << 20, 3).build()).get("HostConfig");
        assertThat(h.get("LogConfig").get("Type").asText()).isEqualTo("json-file");
        assertThat(h.get("LogConfig").get("Config").toString()).isIn(
                "{\"max-size\":\"10485760\",\"max-file\":\"3\"}", "{\"max-file\":\"3\",\"max-size\":\"10485760\"}");
    }

    @Test
    void aSpecWithoutALogLimitCannotBeMade() {
        assertThatThrownBy(() -> new ContainerSpec("s-1", "i", List.of(), Map.of(), Map.of(), GpuAttachMode.NONE,
                List.of(), 1, 1, 1, null, List.of(), List.of(), "n", List.of(), List.of(), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("log limit missing for container s-1");
        assertThatThrownBy(() -> new ContainerSpec.LogLimit(0, 3)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> new ContainerSpec.LogLimit(1024, 0)).hasMessageContaining("at least 1");
    }

    @Test
    void noDiskLimitMeansNoStorageOptAndNoCommandKeepsTheImagesOwn() {
        JsonNode b = body(base().build());
        assertThat(b.get("HostConfig").has("StorageOpt")).isFalse();
        assertThat(b.has("Cmd")).isFalse();
    }

    @Test
    void inconsistentGpuFieldsAndUnknownCapabilitiesAreRejected() {
        assertThatThrownBy(() -> body(base().gpus(GpuAttachMode.NVIDIA).build())).hasMessageContaining("without GPUs");
        assertThatThrownBy(() -> body(base().gpus(GpuAttachMode.NONE, A).build())).hasMessageContaining("NONE with GPUs");
        assertThatThrownBy(() -> body(base().capAdd("FLY").build())).hasMessageContaining("unknown capability FLY");
    }
}
