package io.gpuagent.devtools;

import io.gpuagent.cli.Main;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.market.tls.Fingerprints;
import io.gpuagent.market.tls.TlsSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** {@code gpu-agent tls init} and {@code tls fingerprint} as an owner runs them. */
class TlsCommandTest {
    @TempDir
    Path tmp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private static X509Certificate leaf(Path pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(pem)));
    }

    @Test
    void initWritesTheFilesAndPrintsConfigLinesThatTheAgentAccepts() throws Exception {
        Path dir = tmp.resolve("tls");
        assertThat(run("tls", "init", "--dir", dir.toString(), "--host", "Agent.Example", "--ip", "10.1.2.3", "--days", "30"))
                .as(err.toString()).isZero();
        for (String f : DevTlsFiles.ALL) {
            assertThat(dir.resolve(f)).exists();
        }
        X509Certificate agent = leaf(dir.resolve(DevTlsFiles.AGENT));
        assertThat(agent.getSubjectX500Principal().getName()).contains("CN=agent.example");
        List<String> sans = new ArrayList<>();
        for (List<?> san : agent.getSubjectAlternativeNames()) {
            sans.add(san.get(1).toString());
        }
        assertThat(sans).contains("agent.example", "localhost", "10.1.2.3", "127.0.0.1", "0:0:0:0:0:0:0:1");
        assertThat(Duration.between(Instant.now(), agent.getNotAfter().toInstant()).toHours())
                .isCloseTo(30 * 24, within(2L));

        String text = out.toString();
        assertThat(text).contains("WARNING: this CA is for development")
                .contains("agent.pem      " + Fingerprints.sha256(agent))
                .contains("scheduler.pem  " + Fingerprints.sha256(leaf(dir.resolve(DevTlsFiles.SCHEDULER))));

        // the printed [market] block, pasted into agent.toml, is a configuration the agent takes
        Matcher block = Pattern.compile("(?s)\\[market]\\n(tls_cert = .*?\\n)(tls_key = .*?\\n)(tls_ca = .*?\\n)").matcher(text);
        assertThat(block.find()).as(text).isTrue();
        assertThat(block.group(1)).isEqualTo("tls_cert = \"" + dir.resolve("agent.pem") + "\"\n");
        Path toml = tmp.resolve("agent.toml");
        Files.writeString(toml, "[agent]\nstate_dir = \"" + tmp + "\"\n[market]\nlisten = \"127.0.0.1:7443\"\n"
                + block.group(1) + block.group(2) + block.group(3));
        AgentConfig config = ConfigLoader.load(toml, new HashMap<>(Map.of()), List.of());
        TlsSettings settings = TlsSettings.fromConfig(config.market(), Instant.now());
        assertThat(settings.leaf()).isEqualTo(agent);
        assertThat(settings.warnings()).isEmpty();
    }

    @Test
    void initTwiceWithoutForceRefusesAndChangesNothingThenForceReplacesEverything() throws Exception {
        Path dir = tmp.resolve("tls");
        assertThat(run("tls", "init", "--dir", dir.toString())).isZero();
        Map<String, byte[]> before = new HashMap<>();
        Map<String, FileTime> times = new HashMap<>();
        for (String f : DevTlsFiles.ALL) {
            before.put(f, Files.readAllBytes(dir.resolve(f)));
            times.put(f, Files.getLastModifiedTime(dir.resolve(f)));
        }
        out.getBuffer().setLength(0);

        assertThat(run("tls", "init", "--dir", dir.toString())).isEqualTo(TlsInitCommand.FILES_EXIST).isEqualTo(2);
        assertThat(err.toString()).contains("6 of the TLS files exist already").contains("nothing was changed").contains("--force");
        assertThat(out.toString()).isEmpty();
        for (String f : DevTlsFiles.ALL) {
            assertThat(Files.readAllBytes(dir.resolve(f))).as(f).isEqualTo(before.get(f));
            assertThat(Files.getLastModifiedTime(dir.resolve(f))).as(f).isEqualTo(times.get(f));
        }

        assertThat(run("tls", "init", "--dir", dir.toString(), "--force")).isZero();
        for (String f : DevTlsFiles.ALL) {
            assertThat(Files.readAllBytes(dir.resolve(f))).as(f + " is new").isNotEqualTo(before.get(f));
        }
    }

    @Test
    void oneExistingFileIsEnoughToRefuse() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("tls"));
        Files.writeString(dir.resolve(DevTlsFiles.CA_KEY), "mine");
        assertThat(run("tls", "init", "--dir", dir.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("ca-key.pem");
        try (var s = Files.list(dir)) {
            assertThat(s.count()).as("nothing written beside it").isEqualTo(1);
        }
        assertThat(Files.readString(dir.resolve(DevTlsFiles.CA_KEY))).isEqualTo("mine");
    }

    @Test
    void badHostsAndAddressesAreUsageErrors() {
        assertThat(run("tls", "init", "--dir", tmp.toString(), "--ip", "agent.example")).isEqualTo(2);
        assertThat(err.toString()).contains("--ip agent.example").contains("--host");
        assertThat(run("tls", "init", "--dir", tmp.toString(), "--host", "not a name")).isEqualTo(2);
        assertThat(run("tls", "init", "--dir", tmp.toString(), "--days", "0")).isEqualTo(2);
        assertThat(DevTlsFiles.existing(tmp)).isEmpty();
    }

    @Test
    void fingerprintPrintsEachCertificateInTheFormPinsTakeLeafFirst() throws Exception {
        Path dir = tmp.resolve("tls");
        assertThat(run("tls", "init", "--dir", dir.toString())).isZero();
        out.getBuffer().setLength(0);
        assertThat(run("tls", "fingerprint", dir.resolve(DevTlsFiles.AGENT).toString())).isZero();
        String[] lines = out.toString().split("\n");
        assertThat(lines).hasSize(2);
        String fp = Fingerprints.sha256(leaf(dir.resolve(DevTlsFiles.AGENT)));
        assertThat(lines[0]).startsWith(fp + "  ").endsWith("(leaf: pin this one)");
        assertThat(lines[0].substring(0, 95)).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
        assertThat(lines[1]).startsWith(Fingerprints.sha256(leaf(dir.resolve(DevTlsFiles.CA))));

        assertThat(run("tls", "fingerprint", tmp.resolve("nope.pem").toString())).isEqualTo(3);
        assertThat(err.toString()).contains("does not exist");
        assertThat(run("tls", "fingerprint", dir.resolve(DevTlsFiles.AGENT_KEY).toString())).isEqualTo(3);
    }
}
