package io.gpuagent.journal;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** io.gpuagent.journal is domain: it imports util, the JDK and SLF4J, nothing else (DESIGN.md). */
class JournalPackageImportsTest {
    private static final List<String> ALLOWED = List.of("java.", "io.gpuagent.util.",
            "io.gpuagent.journal.", "org.slf4j.");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (?:static )?([\\w.]+)");

    @Test
    void journalImportsOnlyUtilAndTheJdk() throws Exception {
        Path src = Path.of(System.getProperty("gpuagent.repoRoot", ".."), "agent/src/main/java/io/gpuagent/journal");
        List<String> violations = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(src)) {
            files = s.filter(p -> p.toString().endsWith(".java")).toList();
        }
        assertThat(files).hasSizeGreaterThan(10);
        for (Path f : files) {
            Matcher m = IMPORT.matcher(Files.readString(f));
            while (m.find()) {
                String imp = m.group(1);
                if (ALLOWED.stream().noneMatch(imp::startsWith)) {
                    violations.add(f.getFileName() + " imports " + imp);
                }
            }
        }
        assertThat(violations).isEmpty();
    }
}
