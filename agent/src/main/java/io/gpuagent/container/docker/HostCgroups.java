package io.gpuagent.container.docker;

import io.gpuagent.container.ContainerUsage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A local container's counters read straight from the kernel, as cAdvisor does, instead of the
 * engine's stats endpoint: CPU time and memory from its cgroup's files, its host PIDs from
 * {@code cgroup.procs} (its sub-cgroups included), its network bytes from {@code net/dev} of its
 * first process (its network namespace). The engine's one-shot stats answer only at its next
 * collection, about a second later, and cost an HTTP call, a JSON document and a {@code top} (a
 * {@code ps} run by the engine) per container; these are five small file reads (issue 13).
 *
 * <p>Both cgroup layouts: v2 (unified; {@code cpu.stat usage_usec}, {@code memory.current}) and v1
 * ({@code cpuacct.usage}, {@code memory.usage_in_bytes}), found through {@code /proc/self/mountinfo}
 * and {@code /proc/<pid>/cgroup}, whatever the engine's cgroup driver. These are the files the
 * engine reads for its own stats, so the figures are the same (DockerContainerRuntimeIT compares
 * them). {@link #read} answers empty when the files cannot tell (the agent in another PID or cgroup
 * namespace than the engine, an unknown layout, the process gone): the caller then asks the engine.
 *
 * <p>Thread-safe. The container's first PID and cgroup directories are looked up once per container
 * (the engine's inspect) and kept while they hold: a read that finds the PID no longer in the
 * cgroup (a restart) or the files gone forgets them. A running container whose cgroup cannot be
 * found is remembered as such until it is forgotten, so the fallback costs no extra inspect.
 */
final class HostCgroups {
    /** Where a container's counters live: its first process and its cgroup directories. */
    record Handle(int pid, Path cpu, Path memory, boolean unified) {
    }

    /** A container's full id and its first PID on the host (0 when it runs no process). */
    record Target(String id, int pid) {
    }

    /** Looks up a container's id and first PID (the engine's inspect). */
    @FunctionalInterface
    interface PidLookup {
        Target lookup(String idOrName) throws io.gpuagent.container.ContainerException;
    }

    private final Path proc;
    private final Map<String, Handle> handles = new ConcurrentHashMap<>();
    /** Containers whose process runs but whose cgroup these files do not show: the engine is asked. */
    private final Set<String> unreadable = ConcurrentHashMap.newKeySet();

    /** Reads under {@code proc} (the host's {@code /proc}; another root in tests). */
    HostCgroups(Path proc) {
        this.proc = proc;
    }

    /**
     * The container's counters from the kernel, or empty when the files cannot tell.
     *
     * @throws io.gpuagent.container.ContainerException when {@code lookup} (the engine) fails
     */
    Optional<ContainerUsage> read(String containerId, PidLookup lookup) throws io.gpuagent.container.ContainerException {
        Handle h = handles.get(containerId);
        if (h != null) {
            Optional<ContainerUsage> u = readAt(h);
            if (u.isPresent()) {
                return u;
            }
            handles.remove(containerId, h); // restarted or gone: look again
        } else if (unreadable.contains(containerId)) {
            return Optional.empty();
        }
        Target t = lookup.lookup(containerId);
        if (t.pid() <= 0) {
            return Optional.empty(); // not running now: nothing to remember
        }
        Optional<Handle> found = locate(t.pid(), t.id());
        Optional<ContainerUsage> u = found.flatMap(this::readAt);
        if (u.isPresent()) {
            handles.put(containerId, found.get());
        } else {
            unreadable.add(containerId);
        }
        return u;
    }

    /** Whether this container's counters come from the engine because its cgroup files could not be found. */
    boolean unreadable(String containerId) {
        return unreadable.contains(containerId);
    }

    /** Forgets a container (removed). */
    void forget(String containerId) {
        handles.remove(containerId);
        unreadable.remove(containerId);
    }

    /** How many containers' places are kept (tests). */
    int known() {
        return handles.size();
    }

    /**
     * The cgroup directories of {@code pid}, or empty when the layout is not one this class reads or
     * the cgroup is not the container's: its path must name the container's full id (Docker's
     * {@code /docker/<id>} or {@code docker-<id>.scope}, whatever the driver), so a PID that names
     * another process here (another PID namespace) is never billed to the container. A process in a
     * sub-cgroup of the container's counts from the container's own directory.
     */
    Optional<Handle> locate(int pid, String containerId) {
        List<String> cgroups;
        List<String> mounts;
        try {
            cgroups = Files.readAllLines(proc.resolve(pid + "/cgroup"), StandardCharsets.UTF_8);
            mounts = Files.readAllLines(proc.resolve("self/mountinfo"), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        String cpuacct = null;
        String memory = null;
        String unified = null;
        for (String line : cgroups) {
            String[] f = line.split(":", 3);
            if (f.length != 3) {
                continue;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                unified = f[2];
            }
            for (String c : f[1].split(",")) {
                if (c.equals("cpuacct")) {
                    cpuacct = f[2];
                } else if (c.equals("memory")) {
                    memory = f[2];
                }
            }
        }
        cpuacct = own(cpuacct, containerId);
        memory = own(memory, containerId);
        unified = own(unified, containerId);
        if (cpuacct != null && memory != null) { // v1 (the unified hierarchy may exist beside it, empty)
            Path cpuDir = mounted(mounts, "cgroup", "cpuacct", cpuacct);
            Path memDir = mounted(mounts, "cgroup", "memory", memory);
            return cpuDir == null || memDir == null ? Optional.empty() : Optional.of(new Handle(pid, cpuDir, memDir, false));
        }
        if (unified != null) {
            Path dir = mounted(mounts, "cgroup2", null, unified);
            return dir == null ? Optional.empty() : Optional.of(new Handle(pid, dir, dir, true));
        }
        return Optional.empty();
    }

    /** {@code path} up to the segment that names the container, or null when none does. */
    private static String own(String path, String containerId) {
        if (path == null || containerId == null || containerId.length() < 12) {
            return null;
        }
        int at = path.indexOf(containerId);
        if (at < 0) {
            return null;
        }
        int end = path.indexOf('/', at);
        return end < 0 ? path : path.substring(0, end);
    }

    /**
     * The directory of {@code cgroupPath} under the mount of {@code fsType} (for v1, the one whose
     * super options name {@code controller}), or null.
     */
    private static Path mounted(List<String> mountinfo, String fsType, String controller, String cgroupPath) {
        for (String line : mountinfo) {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] left = line.substring(0, dash).split(" ");
            String[] right = line.substring(dash + 3).split(" ");
            if (left.length < 5 || right.length < 3 || !right[0].equals(fsType)) {
                continue;
            }
            if (controller != null && !List.of(right[2].split(",")).contains(controller)) {
                continue;
            }
            String root = unescape(left[3]);
            String rel;
            if (root.equals("/")) {
                rel = cgroupPath;
            } else if (cgroupPath.equals(root) || cgroupPath.startsWith(root + "/")) {
                rel = cgroupPath.substring(root.length());
            } else {
                continue; // this mount does not show that cgroup (another cgroup namespace)
            }
            Path dir = Path.of(unescape(left[4]), rel.startsWith("/") ? rel.substring(1) : rel);
            if (Files.isDirectory(dir)) {
                return dir;
            }
        }
        return null;
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The counters at {@code h}, or empty when its files are gone or its PID left the cgroup. */
    Optional<ContainerUsage> readAt(Handle h) {
        try {
            List<Integer> pids = new ArrayList<>(procs(h.memory()));
            if (!pids.contains(h.pid())) {
                return Optional.empty();
            }
            long cpuNanos = h.unified() ? Math.multiplyExact(statField(h.cpu().resolve("cpu.stat"), "usage_usec"), 1000L)
                    : number(h.cpu().resolve("cpuacct.usage"));
            long memory = number(h.memory().resolve(h.unified() ? "memory.current" : "memory.usage_in_bytes"));
            long[] net = netDev(proc.resolve(h.pid() + "/net/dev"));
            return Optional.of(new ContainerUsage(cpuNanos, memory, net[0], net[1], pids));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The PIDs in {@code dir}'s cgroup and its sub-cgroups. */
    private static Set<Integer> procs(Path dir) throws IOException {
        Set<Integer> out = new LinkedHashSet<>();
        for (String line : Files.readAllLines(dir.resolve("cgroup.procs"), StandardCharsets.US_ASCII)) {
            if (!line.isBlank()) {
                out.add(Integer.parseInt(line.trim()));
            }
        }
        try (DirectoryStream<Path> subs = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path sub : subs) {
                out.addAll(procs(sub));
            }
        }
        return out;
    }

    private static long number(Path file) throws IOException {
        return Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).trim());
    }

    private static long statField(Path file, String key) throws IOException {
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            if (line.startsWith(key + " ")) {
                return Long.parseLong(line.substring(key.length() + 1).trim());
            }
        }
        throw new IOException(file + " has no " + key);
    }

    /** Received and sent bytes over every interface but loopback, from a {@code net/dev} file. */
    static long[] netDev(Path file) throws IOException {
        long rx = 0;
        long tx = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue; // the two header lines
            }
            String name = line.substring(0, colon).trim();
            if (name.equals("lo")) {
                continue;
            }
            String[] f = line.substring(colon + 1).trim().split("\\s+");
            rx += Long.parseLong(f[0]);
            tx += Long.parseLong(f[8]);
        }
        return new long[] {rx, tx};
    }
}
