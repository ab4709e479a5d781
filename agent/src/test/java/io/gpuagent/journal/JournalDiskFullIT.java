package io.gpuagent.journal;

import io.gpuagent.util.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * DESIGN.md's "disk full under the journal" on a real filesystem: a 256 KiB tmpfs mounted for the
 * test (needs root; fails, never skips, without it). 64 sessions tick until the kernel answers
 * ENOSPC; then the journal must be degraded with nothing acknowledged that is not on disk and no
 * partial batch left in the file; when space is freed the backlog is written once, in order.
 */
class JournalDiskFullIT {
    @TempDir
    Path tmp;

    @Test
    void aFullFilesystemDegradesTheJournalAndFreedSpaceHealsItWithoutLossOrDuplicates() throws Exception {
        Path mount = tmp.resolve("small-fs");
        Files.createDirectories(mount);
        exec("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.toString());
        try {
            Path ballast = mount.resolve("ballast");
            Files.write(ballast, new byte[64 * 1024]);
            Path dir = mount.resolve("journal");
            JournalOptions options = JournalOptions.DEFAULTS.withSegmentBytes(48 * 1024);
            List<String> appended = new ArrayList<>();
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            int ticksBeforeFull = -1;
            try (Journal j = Journal.open(DiskJournalFiles.open(dir, true), options, Clock.SYSTEM, r -> { })) {
                for (int tick = 0; tick < 1000 && ticksBeforeFull < 0; tick++) {
                    tick(j, tick, appended, futures);
                    if (j.commit() == 0) {
                        ticksBeforeFull = tick;
                    }
                }
                assertThat(ticksBeforeFull).as("the 256 KiB filesystem fills up").isPositive();
                // two more ticks while full: metered in memory
                tick(j, ticksBeforeFull + 1, appended, futures);
                assertThat(j.commit()).isZero();
                tick(j, ticksBeforeFull + 2, appended, futures);
                assertThat(j.commit()).isZero();
                assertThat(j.isDegraded()).isTrue();
                assertThat(j.degradedReason()).hasValueSatisfying(r -> assertThat(r).contains("No space left on device"));
                long durable = futures.stream().filter(CompletableFuture::isDone).count();
                assertThat(durable).isEqualTo(j.stats().records());
                assertThat(futures.subList((int) durable, futures.size())).noneMatch(CompletableFuture::isDone);
                assertThat(segmentBytes(dir)).as("no partial batch left behind")
                        .isEqualTo(j.stats().segments() * SegmentHeader.SIZE + j.stats().bytes());

                Files.delete(ballast); // the owner frees space
                assertThat(j.commit()).isEqualTo(futures.size() - (int) durable);
                assertThat(j.isDegraded()).isFalse();
                assertThat(futures).allMatch(f -> f.isDone() && !f.isCompletedExceptionally());
            }
            List<JournalRecord> replayed = new ArrayList<>();
            Journal.open(DiskJournalFiles.open(dir, false), options, Clock.SYSTEM, replayed::add).close();
            assertThat(replayed).hasSize(appended.size());
            for (int i = 0; i < replayed.size(); i++) {
                assertThat(replayed.get(i).seq()).isEqualTo(i + 1);
                assertThat(new String(replayed.get(i).payload(), StandardCharsets.UTF_8)).isEqualTo(appended.get(i));
            }
        } finally {
            exec("umount", mount.toString());
        }
    }

    private static void tick(Journal j, int tick, List<String> appended, List<CompletableFuture<Long>> futures)
            throws JournalException {
        for (int s = 0; s < 64; s++) {
            String payload = String.format("{\"session\":\"s-%02d\",\"tick\":%06d,\"gpuSeconds\":%d,\"pad\":\"%s\"}", s, tick,
                    tick, "x".repeat(40));
            appended.add(payload);
            futures.add(j.append(3, payload.getBytes(StandardCharsets.UTF_8)));
        }
    }

    private static long segmentBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            long total = 0;
            for (Path p : s.toList()) {
                total += Files.size(p);
            }
            return total;
        }
    }

    private static void exec(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail("JournalDiskFullIT needs root to mount a 256 KiB tmpfs for a real disk-full test (run the ITs as root, as"
                    + " .ci/run does); `" + String.join(" ", command) + "` failed: " + output);
        }
    }
}
