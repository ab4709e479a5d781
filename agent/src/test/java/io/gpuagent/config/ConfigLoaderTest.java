package io.gpuagent.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path write(String toml) throws IOException {
        Path f = dir.resolve("agent.toml");
        Files.writeString(f, toml);
        return f;
    }

    @Test
    void defaultsLoadWithoutAFile() throws Exception {
        AgentConfig c = ConfigLoader.load(null, Map.of(), List.of());
        assertThat(c.gpu().sampleIntervalMs()).isEqualTo(1000);
        assertThat(c.gpu().callTimeoutMs()).isEqualTo(2000);
        assertThat(c.gpu().healthEvents()).isTrue();
        assertThat(c.agent().stateDir()).isEqualTo("/var/lib/gpu-agent");
        assertThat(c.log().format()).isEqualTo("auto");
    }

    @Test
    void shippedAgentTomlListsEveryKeyWithItsDefault() throws Exception {
        Path shipped = Path.of(System.getProperty("gpuagent.repoRoot", ".."), "config", "agent.toml");
        AgentConfig fromFile = ConfigLoader.load(shipped, Map.of(), List.of());
        assertThat(fromFile).isEqualTo(ConfigLoader.load(null, Map.of(), List.of()));
        String text = Files.readString(shipped);
        for (String key : ConfigLoader.knownKeys()) {
            String leaf = key.substring(key.lastIndexOf('.') + 1);
            assertThat(text).as("config/agent.toml documents %s", key).containsPattern("(?m)^" + leaf + " = ");
        }
    }

    @Test
    void precedenceIsFileThenEnvironmentThenCommandLine() throws Exception {
        Path f = write("[gpu]\nsample_interval_ms = 500\ncall_timeout_ms = 700\n[log]\nlevel = \"debug\"\n");
        AgentConfig c = ConfigLoader.load(f,
                Map.of("GPU_AGENT__GPU__CALL_TIMEOUT_MS", "900", "GPU_AGENT__LOG__LEVEL", "warn", "UNRELATED", "x"),
                List.of("log.level=error"));
        assertThat(c.gpu().sampleIntervalMs()).isEqualTo(500);
        assertThat(c.gpu().callTimeoutMs()).isEqualTo(900);
        assertThat(c.log().level()).isEqualTo("error");
    }

    @Test
    void simulatedNvmlVariablesAreNotConfigKeys() throws Exception {
        AgentConfig c = ConfigLoader.load(null, Map.of("GPU_AGENT_SIM_CONFIG", "/x.conf"), List.of());
        assertThat(c.gpu().nvmlLibrary()).isEmpty();
    }

    @Test
    void unknownKeyNamesItsPathAndTheClosestKnownKey() throws Exception {
        Path f = write("[gpu]\nsample_intervall_ms = 500\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of(), List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown key gpu.sample_intervall_ms")
                .hasMessageContaining("did you mean gpu.sample_interval_ms?")
                .hasMessageContaining(f.toString())
                .extracting(e -> ((ConfigException) e).key()).isEqualTo("gpu.sample_intervall_ms");
    }

    @Test
    void unknownSectionAndUnknownEnvironmentKeyAreErrors() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(write("[gpus]\nx = 1\n"), Map.of(), List.of()))
                .hasMessageContaining("unknown key gpus");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("GPU_AGENT__GPU__NOPE", "1"), List.of()))
                .hasMessageContaining("environment variable GPU_AGENT__GPU__NOPE")
                .hasMessageContaining("unknown key gpu.nope");
    }

    @Test
    void wrongTypesNameTheKeyTheExpectedTypeAndTheValue() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(write("[gpu]\nsample_interval_ms = \"fast\"\n"), Map.of(), List.of()))
                .hasMessageContaining("gpu.sample_interval_ms must be an integer, got \"fast\"");
        assertThatThrownBy(() -> ConfigLoader.load(write("[gpu]\nhealth_events = 1\n"), Map.of(), List.of()))
                .hasMessageContaining("gpu.health_events must be true or false, got 1");
        assertThatThrownBy(() -> ConfigLoader.load(write("[gpu]\nnvml_library = 3\n"), Map.of(), List.of()))
                .hasMessageContaining("gpu.nvml_library must be a string");
        assertThatThrownBy(() -> ConfigLoader.load(write("gpu = 3\n"), Map.of(), List.of()))
                .hasMessageContaining("gpu is a section");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("gpu.call_timeout_ms=soon")))
                .hasMessageContaining("--set gpu.call_timeout_ms=soon")
                .hasMessageContaining("must be an integer");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("novalue")))
                .hasMessageContaining("expected section.key=value");
    }

    @Test
    void outOfRangeValuesAreRejectedWithTheAllowedRange() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("gpu.sample_interval_ms=10")))
                .hasMessageContaining("gpu.sample_interval_ms = \"10\" is invalid: must be between 100 and 60000");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("log.level=loud")))
                .hasMessageContaining("log.level");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("agent.state_dir=relative/dir")))
                .hasMessageContaining("agent.state_dir").hasMessageContaining("absolute path");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("gpu.nvml_library=libnvidia-ml.so.1")))
                .hasMessageContaining("gpu.nvml_library");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("agent.host_id=bad host")))
                .hasMessageContaining("agent.host_id");
    }

    /** Issue 10: no "unlimited" log, and no cap so large that it is none. */
    @Test
    void sessionLogLimitsHaveSaneDefaultsAndBoundedRanges() throws Exception {
        AgentConfig d = ConfigLoader.load(null, Map.of(), List.of());
        assertThat(d.sessions().logMaxSizeMb()).isEqualTo(10);
        assertThat(d.sessions().logMaxFiles()).isEqualTo(3);
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("sessions.log_max_size_mb=0")))
                .hasMessageContaining("sessions.log_max_size_mb = \"0\" is invalid: must be between 1 and 1024");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("sessions.log_max_size_mb=4096")))
                .hasMessageContaining("sessions.log_max_size_mb");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("sessions.log_max_files=0")))
                .hasMessageContaining("sessions.log_max_files = \"0\" is invalid: must be between 1 and 100");
        AgentConfig c = ConfigLoader.load(null, Map.of("GPU_AGENT__SESSIONS__LOG_MAX_FILES", "5"),
                List.of("sessions.log_max_size_mb=1"));
        assertThat(c.sessions().logMaxSizeMb()).isEqualTo(1);
        assertThat(c.sessions().logMaxFiles()).isEqualTo(5);
    }

    @Test
    void streamLimitsHaveSaneDefaultsAndGrantsNeedEscrow() throws Exception {
        AgentConfig.Market d = ConfigLoader.load(null, Map.of(), List.of()).market();
        assertThat(d.streams()).isTrue();
        assertThat(d.streamLimitPerConnection()).isEqualTo(16);
        assertThat(d.streamLimitPerSession()).isEqualTo(4);
        assertThat(d.streamWindowBytes()).isEqualTo(262144);
        assertThat(d.streamIdleTimeoutS()).isEqualTo(3600);
        assertThat(d.streamGrants()).isEqualTo("off");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("market.stream_window_bytes=512")))
                .hasMessageContaining("market.stream_window_bytes = \"512\" is invalid: must be between 1024 and 16777216");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("market.stream_limit_per_session=0")))
                .hasMessageContaining("market.stream_limit_per_session");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("market.stream_grants=sometimes")))
                .hasMessageContaining("market.stream_grants = \"sometimes\" is invalid: must be \"off\" or \"required\"");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("market.stream_grants=required")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("needs escrow.enabled = true");
    }

    @Test
    void listsComeFromTomlArraysOrCommaSeparatedOverrides() throws Exception {
        AgentConfig c = ConfigLoader.load(write("[sessions]\nallowed_images = [\"docker.io/pytorch/*\", \"nvcr.io/**\"]\n"),
                Map.of("GPU_AGENT__SESSIONS__DENIED_IMAGES", "a/*, b/*"), List.of());
        assertThat(c.sessions().allowedImages()).containsExactly("docker.io/pytorch/*", "nvcr.io/**");
        assertThat(c.sessions().deniedImages()).containsExactly("a/*", "b/*");
        assertThatThrownBy(() -> ConfigLoader.load(write("[sessions]\nallowed_images = [1, 2]\n"), Map.of(), List.of()))
                .hasMessageContaining("sessions.allowed_images must be a list of strings");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("sessions.allowed_images=")))
                .hasMessageContaining("sessions.allowed_images").hasMessageContaining("at least one");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("sessions.port_range=80-90")))
                .hasMessageContaining("sessions.port_range");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("sessions.gpu_attach=amd")))
                .hasMessageContaining("sessions.gpu_attach");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("metrics.listen=127.0.0.1:9400")))
                .hasMessageContaining("9400 is dcgm-exporter's");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("metrics.listen=::1:9464")))
                .hasMessageContaining("brackets");
    }

    @Test
    void migLayoutsParseFromTomlAndFromOverridesAndBadOnesNameTheEntry() throws Exception {
        AgentConfig c = ConfigLoader.load(write("[gpu]\nmig_layouts = [\"0=3g.40gb,2g.20gb, 1g.10gb\", \"GPU-11111111-2222-3333-4444-555555555555=7g.80gb\", \"2=off\"]\n"
                + "[offer]\nmig_prices = [\"1g.10gb=95\", \"H200 3g.71gb=430\"]\n"), Map.of(), List.of());
        assertThat(c.gpu().migLayoutMap()).containsExactly(
                Map.entry("0", List.of("3g.40gb", "2g.20gb", "1g.10gb")),
                Map.entry("GPU-11111111-2222-3333-4444-555555555555", List.of("7g.80gb")),
                Map.entry("2", List.of()));
        assertThat(c.offer().migPrices()).containsExactly("1g.10gb=95", "H200 3g.71gb=430");
        // --set splits lists at commas: profiles are separated by spaces there
        AgentConfig o = ConfigLoader.load(null, Map.of(), List.of("gpu.mig_layouts=1=1g.10gb 1g.10gb+me 3g.40gb"));
        assertThat(o.gpu().migLayoutMap()).containsExactly(Map.entry("1", List.of("1g.10gb", "1g.10gb+me", "3g.40gb")));
        for (String bad : List.of("0=3g.40gb 9g.1gb", "x=1g.10gb", "0=1g", "0=", "0=1g.10gb,1g.10gb,1g.10gb,1g.10gb,1g.10gb,1g.10gb,1g.10gb,1g.10gb")) {
            assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("gpu.mig_layouts=" + bad.replace(',', ' '))))
                    .as(bad).isInstanceOf(ConfigException.class).hasMessageContaining("gpu.mig_layouts")
                    .hasMessageContaining("GPU=profile");
        }
        assertThatThrownBy(() -> ConfigLoader.load(write("[gpu]\nmig_layouts = [\"0=1g.10gb\", \"0=off\"]\n"), Map.of(), List.of()))
                .hasMessageContaining("GPU 0 is listed twice");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(), List.of("offer.mig_prices=1g.10gb=ninety")))
                .hasMessageContaining("offer.mig_prices").hasMessageContaining("1g.10gb=ninety");
    }

    @Test
    void missingAndMalformedFilesSayWhatToDo() throws Exception {
        Path missing = dir.resolve("nope.toml");
        assertThatThrownBy(() -> ConfigLoader.load(missing, Map.of(), List.of()))
                .hasMessageContaining(missing + " does not exist")
                .hasMessageContaining("config/agent.toml");
        assertThatThrownBy(() -> ConfigLoader.load(write("[gpu\nx=\n"), Map.of(), List.of()))
                .hasMessageContaining("is not valid TOML").hasMessageContaining("line");
    }

    @Test
    void secretsAreMaskedInTheEffectiveConfig() {
        assertThat(ConfigLoader.isSecret("wallet_password")).isTrue();
        assertThat(ConfigLoader.isSecret("rpc_token")).isTrue();
        assertThat(ConfigLoader.isSecret("token")).as("escrow.token: the ERC-20's public address").isFalse();
        assertThat(ConfigLoader.isSecret("password_credential")).as("a credential's name").isFalse();
        assertThat(ConfigLoader.isSecret("private_key")).isTrue();
        assertThat(ConfigLoader.isSecret("password_file")).isFalse();
        assertThat(ConfigLoader.isSecret("sample_interval_ms")).isFalse();
    }

    @Test
    void describePrintsEveryKeyOnce() throws Exception {
        String text = ConfigLoader.describe(ConfigLoader.load(null, Map.of(), List.of()));
        assertThat(text).contains("[gpu]\n", "sample_interval_ms = 1000", "nvml_library = \"\"");
        java.util.List<String> keys = ConfigLoader.knownKeys();
        for (String key : keys) {
            String leaf = key.substring(key.lastIndexOf('.') + 1);
            long expected = keys.stream().filter(k -> k.endsWith("." + leaf)).count();
            assertThat(text.split("\n" + java.util.regex.Pattern.quote(leaf) + " = ", -1)).as(key).hasSize((int) expected + 1);
        }
    }

    @Test
    void aWildcardListenAddressIsDialedOnLoopback() throws Exception {
        assertThat(HostPort.parse("k", "0.0.0.0:7443").dialable()).isEqualTo(new HostPort("127.0.0.1", 7443));
        assertThat(HostPort.parse("k", "[::]:7443").dialable()).isEqualTo(new HostPort("::1", 7443));
        assertThat(HostPort.parse("k", "10.0.0.5:7443").dialable()).isEqualTo(new HostPort("10.0.0.5", 7443));
        assertThat(HostPort.parse("k", "127.0.0.1:9464").socketAddress().getPort()).isEqualTo(9464);
    }
}
