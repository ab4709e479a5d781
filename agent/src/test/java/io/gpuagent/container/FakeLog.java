package io.gpuagent.container;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A container's log as Docker's json-file driver keeps it under a {@link ContainerSpec.LogLimit}:
 * each line costs the bytes of its JSON entry; before an entry is written, a current file that has
 * reached {@code maxFileBytes} is rotated, and the oldest file beyond {@code maxFiles} is deleted
 * (moby's {@code LogFile.checkCapacityAndRotate}). So the fake forgets the oldest lines when the real
 * engine does, give or take a file's worth, and a test of a flood on the fake means what it says.
 */
final class FakeLog {
    /**
     * {@code {"log":"<line>\n","stream":"stdout","time":"2024-01-01T00:00:00.000000000Z"}} plus its
     * newline, less the line: what json-file adds to every line.
     */
    static final int ENTRY_OVERHEAD = ("{\"log\":\"\\n\",\"stream\":\"stdout\",\"time\":\""
            + "2024-01-01T00:00:00.000000000Z\"}\n").length();

    private final ContainerSpec.LogLimit limit;
    /** Oldest file first; the last one is the current one. */
    private final Deque<List<String>> files = new ArrayDeque<>();
    private long currentBytes;

    FakeLog(ContainerSpec.LogLimit limit) {
        this.limit = limit;
        files.add(new ArrayList<>());
    }

    void add(String line) {
        if (currentBytes >= limit.maxFileBytes()) {
            if (files.size() >= limit.maxFiles()) {
                files.removeFirst();
            }
            files.addLast(new ArrayList<>());
            currentBytes = 0;
        }
        files.getLast().add(line);
        currentBytes += line.getBytes(StandardCharsets.UTF_8).length + ENTRY_OVERHEAD;
    }

    void addAll(List<String> lines) {
        lines.forEach(this::add);
    }

    /** The last {@code n} lines still kept, oldest first. */
    List<String> tail(int n) {
        List<String> all = new ArrayList<>();
        files.forEach(all::addAll);
        return List.copyOf(all.subList(Math.max(0, all.size() - n), all.size()));
    }
}
