package io.gpuagent;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dependencies point inward (DESIGN.md's package table): each third-party library is imported by
 * the one package that owns it, and the domain packages import no edge library. Read from the
 * sources' import lines, so it needs no bytecode library.
 */
class ArchitectureTest {
    /** Third-party package prefix -> the only agent packages allowed to import it. */
    private static final Map<String, List<String>> OWNERS = Map.of(
            "com.sun.jna", List.of("io.gpuagent.gpu.nvml", "io.gpuagent.daemon.systemd"),
            "picocli", List.of("io.gpuagent.cli", "io.gpuagent.devtools"),
            "ch.qos.logback", List.of("io.gpuagent.daemon.logging"),
            "com.fasterxml.jackson.dataformat.toml", List.of("io.gpuagent.config"),
            "io.netty", List.of("io.gpuagent.market", "io.gpuagent.market.client", "io.gpuagent.market.tls", "io.gpuagent.metrics"),
            "org.web3j", List.of("io.gpuagent.escrow.web3j", "io.gpuagent.devtools"),
            "com.github.dockerjava", List.of("io.gpuagent.container.docker"),
            "io.prometheus", List.of("io.gpuagent.metrics"),
            "org.bouncycastle", List.of("io.gpuagent.devtools"));

    /** Agent package -> agent packages it must not import (inner layers never see outer ones). */
    private static final Map<String, List<String>> FORBIDDEN = Map.ofEntries(
            Map.entry("io.gpuagent.util", List.of("io.gpuagent.config", "io.gpuagent.gpu", "io.gpuagent.daemon",
                    "io.gpuagent.session", "io.gpuagent.container", "io.gpuagent.metering", "io.gpuagent.metrics")),
            Map.entry("io.gpuagent.config", List.of("io.gpuagent.gpu", "io.gpuagent.daemon", "io.gpuagent.session",
                    "io.gpuagent.container", "io.gpuagent.metering", "io.gpuagent.metrics")),
            Map.entry("io.gpuagent.gpu", List.of("io.gpuagent.gpu.nvml", "io.gpuagent.daemon", "io.gpuagent.config",
                    "io.gpuagent.session", "io.gpuagent.metrics")),
            Map.entry("io.gpuagent.gpu.nvml", List.of("io.gpuagent.daemon", "io.gpuagent.config", "io.gpuagent.metrics")),
            Map.entry("io.gpuagent.container", List.of("io.gpuagent.session", "io.gpuagent.daemon", "io.gpuagent.config",
                    "io.gpuagent.gpu", "io.gpuagent.metrics", "io.gpuagent.metering")),
            Map.entry("io.gpuagent.metering", List.of("io.gpuagent.session", "io.gpuagent.daemon", "io.gpuagent.gpu",
                    "io.gpuagent.container", "io.gpuagent.metrics")),
            Map.entry("io.gpuagent.session", List.of("io.gpuagent.daemon", "io.gpuagent.metrics", "io.gpuagent.gpu.nvml",
                    "io.gpuagent.container.docker")),
            Map.entry("io.gpuagent.metrics", List.of("io.gpuagent.daemon", "io.gpuagent.gpu.nvml", "io.gpuagent.container.docker")),
            // the escrow domain sees neither the daemon's other parts nor its own web3j adapter
            Map.entry("io.gpuagent.escrow", List.of("io.gpuagent.session", "io.gpuagent.daemon", "io.gpuagent.market",
                    "io.gpuagent.metrics", "io.gpuagent.container", "io.gpuagent.gpu", "io.gpuagent.escrow.web3j")),
            Map.entry("io.gpuagent.escrow.web3j", List.of("io.gpuagent.session", "io.gpuagent.daemon", "io.gpuagent.market",
                    "io.gpuagent.metrics", "io.gpuagent.container", "io.gpuagent.gpu")),
            // the wire format knows nothing of the agent it serves
            Map.entry("io.gpuagent.protocol", List.of("io.gpuagent.config", "io.gpuagent.gpu", "io.gpuagent.session",
                    "io.gpuagent.container", "io.gpuagent.metering", "io.gpuagent.metrics", "io.gpuagent.market",
                    "io.gpuagent.escrow", "io.gpuagent.daemon")),
            // the scheduler link reaches payments only through its PaymentPort, which the daemon adapts
            Map.entry("io.gpuagent.market", List.of("io.gpuagent.daemon", "io.gpuagent.escrow", "io.gpuagent.metrics",
                    "io.gpuagent.container", "io.gpuagent.metering", "io.gpuagent.gpu.nvml")),
            Map.entry("io.gpuagent.market.client", List.of("io.gpuagent.daemon", "io.gpuagent.escrow",
                    "io.gpuagent.metrics", "io.gpuagent.session", "io.gpuagent.gpu")),
            Map.entry("io.gpuagent.market.tls", List.of("io.gpuagent.daemon", "io.gpuagent.escrow",
                    "io.gpuagent.metrics", "io.gpuagent.session", "io.gpuagent.gpu", "io.gpuagent.protocol")),
            // the daemon is wired without its command line; the command line reports on the daemon's rooms
            Map.entry("io.gpuagent.daemon", List.of("io.gpuagent.cli")),
            Map.entry("io.gpuagent.cli", List.of("io.gpuagent.devtools")),
            // the development tools may use anything; nothing else imports them (DEVTOOLS below)
            Map.entry("io.gpuagent.devtools", List.of()));

    /** Only the development tools' own package may refer to them: production code finds them at run time. */
    private static final String DEVTOOLS = "io.gpuagent.devtools";

    private static final Pattern PACKAGE = Pattern.compile("(?m)^package ([\\w.]+);");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (?:static )?([\\w.]+)");
    private static final Pattern QUALIFIED = Pattern.compile("\\b(com\\.sun\\.jna|picocli|ch\\.qos\\.logback|io\\.netty|org\\.web3j|io\\.gpuagent\\.devtools)\\.[A-Za-z]");

    @Test
    void eachLibraryIsImportedOnlyByItsOwnerAndLayersPointInward() throws IOException {
        Path src = Path.of(System.getProperty("gpuagent.repoRoot", ".."), "agent/src/main/java");
        List<String> violations = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.walk(src)) {
            files = s.filter(p -> p.toString().endsWith(".java")).toList();
        }
        assertThat(files).hasSizeGreaterThan(20);
        for (Path f : files) {
            String text = Files.readString(f);
            Matcher pm = PACKAGE.matcher(text);
            assertThat(pm.find()).as("package line in %s", f).isTrue();
            String pkg = pm.group(1);
            List<String> referenced = new ArrayList<>();
            Matcher im = IMPORT.matcher(text);
            while (im.find()) {
                referenced.add(im.group(1));
            }
            Matcher qm = QUALIFIED.matcher(text);
            while (qm.find()) {
                referenced.add(qm.group(1) + ".x");
            }
            for (String ref : referenced) {
                OWNERS.forEach((lib, owners) -> {
                    if (ref.startsWith(lib + ".") && owners.stream().noneMatch(pkg::equals)) {
                        violations.add(f.getFileName() + " (" + pkg + ") uses " + ref + "; only " + owners + " may");
                    }
                });
                if (ref.startsWith(DEVTOOLS + ".") && !pkg.equals(DEVTOOLS) && !pkg.startsWith(DEVTOOLS + ".")) {
                    violations.add(f.getFileName() + " (" + pkg + ") refers to " + ref + "; nothing but " + DEVTOOLS
                            + " may (production code must run without the development tools)");
                }
                List<String> banned = FORBIDDEN.getOrDefault(pkg, List.of());
                String refPkg = ref.substring(0, ref.lastIndexOf('.'));
                for (String b : banned) {
                    if (refPkg.equals(b) || refPkg.startsWith(b + ".")) {
                        violations.add(f.getFileName() + " (" + pkg + ") imports " + ref + " from outer layer " + b);
                    }
                }
            }
        }
        assertThat(violations).isEmpty();
    }
}
