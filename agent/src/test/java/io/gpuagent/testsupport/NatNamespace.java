package io.gpuagent.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace made by a test to stand for a host behind a home router's NAT: one veth
 * link to the test's host side ({@link #hostAddress()}, where the marketplace listens), a default
 * route out through it, and a firewall in the namespace that lets replies in but no new
 * connection (what NAT does to a host nobody forwarded a port to). Forwarding is switched on only
 * on the interfaces the test names (its veth, a session's bridge), never globally, and restored on
 * close; deleting the namespace removes the veth pair. Needs root and iproute2/iptables.
 */
public final class NatNamespace implements AutoCloseable {
    private final String name;
    private final String hostIf;
    private final String hostAddress;
    private final String innerAddress;
    private final List<String> forwarding = new ArrayList<>();

    public NatNamespace() throws IOException, InterruptedException {
        int r = (int) (ProcessHandle.current().pid() % 200) + 20;
        name = "gpa-nat-" + r;
        hostIf = "gpnh" + r;
        String inner = "gpna" + r;
        hostAddress = "10.213." + r + ".1";
        innerAddress = "10.213." + r + ".2";
        run(true, "ip", "netns", "del", name);
        run(false, "ip", "netns", "add", name);
        run(false, "ip", "link", "add", hostIf, "type", "veth", "peer", "name", inner);
        run(false, "ip", "link", "set", inner, "netns", name);
        run(false, "ip", "addr", "add", hostAddress + "/30", "dev", hostIf);
        run(false, "ip", "link", "set", hostIf, "up");
        run(false, "ip", "-n", name, "addr", "add", innerAddress + "/30", "dev", inner);
        run(false, "ip", "-n", name, "link", "set", inner, "up");
        run(false, "ip", "-n", name, "link", "set", "lo", "up");
        run(false, "ip", "-n", name, "route", "add", "default", "via", hostAddress);
        // the router's NAT: replies come in, new connections do not
        run(false, "ip", "netns", "exec", name, "iptables", "-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
        run(false, "ip", "netns", "exec", name, "iptables", "-A", "INPUT", "-m", "conntrack", "--ctstate",
                "ESTABLISHED,RELATED", "-j", "ACCEPT");
        run(false, "ip", "netns", "exec", name, "iptables", "-A", "INPUT", "-j", "DROP");
        forward(hostIf);
    }

    public String name() {
        return name;
    }

    /** The host side of the link: where a marketplace in the test listens. */
    public String hostAddress() {
        return hostAddress;
    }

    /** The namespace's own address (unreachable for new connections from outside). */
    public String innerAddress() {
        return innerAddress;
    }

    /** Lets the host forward packets arriving on {@code iface} (the veth, a session's bridge); undone on close. */
    public void forward(String iface) throws IOException, InterruptedException {
        String key = "net.ipv4.conf." + iface + ".forwarding";
        String was = run(false, "sysctl", "-n", key).strip();
        if (!was.equals("1")) {
            run(false, "sysctl", "-qw", key + "=1");
            forwarding.add(iface);
        }
    }

    private static String run(boolean mayFail, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " did not finish");
        }
        if (p.exitValue() != 0 && !mayFail) {
            throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.strip()
                    + " (the NAT test needs root, iproute2 and iptables)");
        }
        return out;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        for (String iface : forwarding) {
            run(true, "sysctl", "-qw", "net.ipv4.conf." + iface + ".forwarding=0");
        }
        run(true, "ip", "netns", "del", name);
    }
}
