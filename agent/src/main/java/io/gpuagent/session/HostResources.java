package io.gpuagent.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The machine's CPUs and memory as the container engine counts them: a container's CPU limit may
 * not exceed the online CPUs ("Range of CPUs is from 0.01 to 2.00" on a 2-core host) and its
 * memory limit is pointless above the machine's.
 *
 * @param cpus        online CPUs ({@code /sys/devices/system/cpu/online}; the JVM's count if unreadable)
 * @param memoryBytes {@code MemTotal} of {@code /proc/meminfo}
 */
public record HostResources(int cpus, long memoryBytes) {

    public HostResources {
        if (cpus < 1 || memoryBytes < 1) {
            throw new IllegalArgumentException("a host has CPUs and memory: " + cpus + " CPUs, " + memoryBytes + " bytes");
        }
    }

    /** This machine's figures. */
    public static HostResources read() {
        return new HostResources(onlineCpus(Path.of("/sys/devices/system/cpu/online")), memTotal(Path.of("/proc/meminfo")));
    }

    /** Counts a kernel CPU list such as {@code 0-3,6,8-9}; the JVM's count when unreadable. */
    static int onlineCpus(Path file) {
        try {
            int n = 0;
            for (String part : Files.readString(file).trim().split(",")) {
                int dash = part.indexOf('-');
                n += dash < 0 ? 1 : Integer.parseInt(part.substring(dash + 1)) - Integer.parseInt(part.substring(0, dash)) + 1;
            }
            return n > 0 ? n : Runtime.getRuntime().availableProcessors();
        } catch (IOException | NumberFormatException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    static long memTotal(Path file) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: what the JVM may use is all that is known
        }
        return Runtime.getRuntime().maxMemory();
    }
}
