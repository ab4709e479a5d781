package io.gpuagent.daemon.logging;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class LogSetupTest {
    private final PrintStream originalErr = System.err;

    @AfterEach
    void restore() {
        System.setErr(originalErr);
        LogSetup.configure("warn", "text", Map.of());
    }

    private String logWith(String format, Map<String, String> env) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        LogSetup.configure("info", format, env);
        var log = LoggerFactory.getLogger("io.gpuagent.Test");
        log.error("broken");
        log.warn("careful");
        log.info("fine");
        log.debug("hidden at info");
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void underSystemdLinesCarryJournaldPrioritiesAndNoTimestamp() {
        String out = logWith("auto", Map.of("JOURNAL_STREAM", "8:1234"));
        assertThat(out.lines()).hasSize(3);
        assertThat(out).contains("<3>[main] Test: broken", "<4>[main] Test: careful", "<6>[main] Test: fine")
                .doesNotContain("hidden").doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}T");
    }

    @Test
    void elsewhereLinesAreTimestampedText() {
        String out = logWith("auto", Map.of());
        assertThat(out).containsPattern("\\d{4}-\\d{2}-\\d{2}T\\S+ WARN  \\[main\\] Test: careful").doesNotContain("<4>");
        assertThat(logWith("journald", Map.of())).contains("<6>[main] Test: fine");
    }
}
