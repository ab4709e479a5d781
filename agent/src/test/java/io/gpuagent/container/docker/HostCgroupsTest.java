package io.gpuagent.container.docker;

import io.gpuagent.container.ContainerException;
import io.gpuagent.container.ContainerNotFoundException;
import io.gpuagent.container.ContainerUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * HostCgroups on made-up {@code /proc} and cgroup trees in both layouts; DockerContainerRuntimeIT
 * compares it with the engine's own stats on a real container.
 */
class HostCgroupsTest {
    private static final String ID = "c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    private static final String NET_DEV = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:  999999      10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0
              eth0:    1500      12    0    0    0     0          0         0      700       7    0    0    0     0       0          0
              eth1:     100       1    0    0    0     0          0         0       50       1    0    0    0     0       0          0
            """;

    @TempDir
    Path root;

    private final AtomicInteger lookups = new AtomicInteger();

    private HostCgroups.PidLookup pid(int pid) {
        return id -> {
            lookups.incrementAndGet();
            return new HostCgroups.Target(ID, pid);
        };
    }

    /** A v2 host: one unified mount, the container in a systemd scope with a sub-cgroup. */
    private HostCgroups v2(int pid) throws IOException {
        Path proc = root.resolve("proc");
        Path mnt = root.resolve("sys/fs/cgroup");
        Path dir = mnt.resolve("system.slice/docker-" + ID + ".scope");
        Files.createDirectories(dir.resolve("inner"));
        write(proc.resolve("self/mountinfo"), "30 23 0:26 / " + mnt + " rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
                + "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
        write(proc.resolve(pid + "/cgroup"), "0::/system.slice/docker-" + ID + ".scope\n");
        write(proc.resolve(pid + "/net/dev"), NET_DEV);
        write(dir.resolve("cpu.stat"), "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
        write(dir.resolve("memory.current"), "7340032\n");
        write(dir.resolve("cgroup.procs"), pid + "\n4321\n");
        write(dir.resolve("inner/cgroup.procs"), "4400\n");
        return new HostCgroups(proc);
    }

    /** A v1 host like Debian 12 with the cgroupfs driver: cpu,cpuacct joined, an empty unified hierarchy beside. */
    private HostCgroups v1(int pid) throws IOException {
        Path proc = root.resolve("proc");
        Path cg = root.resolve("sys/fs/cgroup");
        Path cpu = cg.resolve("cpu,cpuacct/docker/" + ID);
        Path mem = cg.resolve("memory/docker/" + ID);
        Files.createDirectories(cpu);
        Files.createDirectories(mem);
        write(proc.resolve("self/mountinfo"),
                "25 24 0:22 / " + cg + "/unified rw,relatime shared:5 - cgroup2 cgroup2 rw\n"
                        + "26 24 0:23 / " + cg + "/cpu,cpuacct rw,relatime shared:6 - cgroup cgroup rw,cpu,cpuacct\n"
                        + "27 24 0:24 / " + cg + "/memory rw,relatime shared:7 - cgroup cgroup rw,memory\n");
        write(proc.resolve(pid + "/cgroup"), "12:pids:/docker/" + ID + "\n4:memory:/docker/" + ID + "\n3:cpu,cpuacct:/docker/"
                + ID + "\n1:name=systemd:/docker/" + ID + "\n0::/docker/" + ID + "\n");
        write(proc.resolve(pid + "/net/dev"), NET_DEV);
        write(cpu.resolve("cpuacct.usage"), "123456789\n");
        write(mem.resolve("memory.usage_in_bytes"), "1048576\n");
        write(mem.resolve("cgroup.procs"), pid + "\n");
        return new HostCgroups(proc);
    }

    @Test
    void readsTheUnifiedLayout() throws Exception {
        HostCgroups c = v2(4242);
        ContainerUsage u = c.read(ID, pid(4242)).orElseThrow();
        assertThat(u.cpuNanos()).isEqualTo(2_500_000_000L);
        assertThat(u.memoryBytes()).isEqualTo(7_340_032L);
        assertThat(u.pids()).as("sub-cgroups included").containsExactlyInAnyOrder(4242, 4321, 4400);
        assertThat(u.netRxBytes()).as("every interface but loopback").isEqualTo(1600);
        assertThat(u.netTxBytes()).isEqualTo(750);
    }

    @Test
    void readsTheV1LayoutEvenWithAnEmptyUnifiedHierarchyBeside() throws Exception {
        HostCgroups c = v1(77);
        ContainerUsage u = c.read(ID, pid(77)).orElseThrow();
        assertThat(u.cpuNanos()).isEqualTo(123_456_789L);
        assertThat(u.memoryBytes()).isEqualTo(1_048_576L);
        assertThat(u.pids()).containsExactly(77);
        assertThat(u.netRxBytes()).isEqualTo(1600);
    }

    @Test
    void looksUpThePidOnceAndAgainOnlyWhenTheProcessLeftItsCgroup() throws Exception {
        HostCgroups c = v2(4242);
        c.read(ID, pid(4242)).orElseThrow();
        c.read(ID, pid(4242)).orElseThrow();
        assertThat(lookups).as("the place is kept").hasValue(1);

        // the container restarted: a new first process, the old PID gone from cgroup.procs
        Path proc = root.resolve("proc");
        write(proc.resolve("5000/cgroup"), "0::/system.slice/docker-" + ID + ".scope\n");
        write(proc.resolve("5000/net/dev"), NET_DEV);
        write(root.resolve("sys/fs/cgroup/system.slice/docker-" + ID + ".scope/cgroup.procs"), "5000\n");
        ContainerUsage u = c.read(ID, pid(5000)).orElseThrow();
        assertThat(lookups).hasValue(2);
        assertThat(u.pids()).contains(5000).doesNotContain(4242);
    }

    @Test
    void answersEmptyWhenTheFilesCannotTellAndAsksTheEngineNoMore() throws Exception {
        HostCgroups c = v2(4242);
        assertThat(c.read(ID, pid(0))).as("no process").isEmpty();
        assertThat(c.unreadable(ID)).as("not running is not unreadable").isFalse();
        assertThat(c.read(ID, pid(9999))).as("a PID this /proc does not show (another PID namespace)").isEmpty();
        assertThat(c.unreadable(ID)).isTrue();
        int asked = lookups.get();
        assertThat(c.read(ID, pid(4242))).as("remembered: no inspect").isEmpty();
        assertThat(lookups).hasValue(asked);
        c.forget(ID);
        assertThat(c.read(ID, pid(4242))).as("forgotten: looked up again").isPresent();

        for (String cgroup : new String[] {"0::/elsewhere\n", "0::/system.slice/docker-feed.scope\n", "garbage\n"}) {
            HostCgroups fresh = new HostCgroups(root.resolve("proc"));
            write(root.resolve("proc/4242/cgroup"), cgroup);
            assertThat(fresh.read(ID, pid(4242))).as("cgroup %s", cgroup.trim()).isEmpty();
            assertThat(fresh.known()).isZero();
        }
    }

    @Test
    void aPidWhoseCgroupIsNotTheContainersIsNeverBilledToIt() throws Exception {
        HostCgroups c = v2(4242);
        // another process's cgroup that exists and reads fine, but does not name the container
        Path other = root.resolve("sys/fs/cgroup/user.slice");
        Files.createDirectories(other);
        write(other.resolve("cpu.stat"), "usage_usec 99\n");
        write(other.resolve("memory.current"), "1\n");
        write(other.resolve("cgroup.procs"), "4242\n");
        write(root.resolve("proc/4242/cgroup"), "0::/user.slice\n");
        assertThat(c.read(ID, pid(4242))).isEmpty();
        assertThat(c.unreadable(ID)).isTrue();
    }

    @Test
    void aFirstProcessInASubCgroupCountsFromTheContainersOwnDirectory() throws Exception {
        HostCgroups c = v2(4400);
        write(root.resolve("proc/4400/cgroup"), "0::/system.slice/docker-" + ID + ".scope/inner\n");
        write(root.resolve("proc/4400/net/dev"), NET_DEV);
        ContainerUsage u = c.read(ID, pid(4400)).orElseThrow();
        assertThat(u.cpuNanos()).as("the container's cpu.stat").isEqualTo(2_500_000_000L);
        assertThat(u.pids()).containsExactlyInAnyOrder(4400, 4321);
    }

    @Test
    void aRemovedContainersFilesMakeItEmptyAndForgotten() throws Exception {
        HostCgroups c = v2(4242);
        c.read(ID, pid(4242)).orElseThrow();
        Path dir = root.resolve("sys/fs/cgroup/system.slice/docker-" + ID + ".scope");
        Files.delete(dir.resolve("memory.current"));
        assertThat(c.read(ID, pid(4242))).isEmpty();
        assertThat(c.known()).isZero();
        c.forget(ID);
        assertThat(c.known()).isZero();
    }

    @Test
    void theEnginesErrorFromTheLookupPassesThrough() throws Exception {
        HostCgroups c = v2(4242);
        assertThatThrownBy(() -> c.read(ID, id -> {
            throw new ContainerNotFoundException("inspect container " + id + ": No such container: " + id);
        })).isInstanceOf(ContainerException.class).hasMessageContaining("No such container");
        assertThat(c.known()).isZero();
    }

    @Test
    void mountPointsWithEscapedSpacesAreFound() throws Exception {
        Path proc = root.resolve("proc");
        Path mnt = root.resolve("with space/cgroup");
        Path dir = mnt.resolve("docker/" + ID);
        Files.createDirectories(dir);
        write(proc.resolve("self/mountinfo"), "30 23 0:26 / " + mnt.toString().replace(" ", "\\040")
                + " rw shared:4 - cgroup2 cgroup2 rw\n");
        write(proc.resolve("9/cgroup"), "0::/docker/" + ID + "\n");
        write(proc.resolve("9/net/dev"), NET_DEV);
        write(dir.resolve("cpu.stat"), "usage_usec 1\n");
        write(dir.resolve("memory.current"), "2\n");
        write(dir.resolve("cgroup.procs"), "9\n");
        assertThat(new HostCgroups(proc).read(ID, pid(9)).orElseThrow().cpuNanos()).isEqualTo(1000);
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }
}
