package io.gpuagent.devtools;

import io.gpuagent.cli.CommandSupport;
import io.gpuagent.config.ConfigException;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.market.tls.Fingerprints;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * {@code gpu-agent tls init}: a development CA, the agent's certificate and a scheduler client
 * certificate ({@link DevCertificateAuthority}, written by {@link DevTlsFiles}). A development tool:
 * it plugs in under {@code gpu-agent tls} ({@link DevtoolsCommands.TlsInit}).
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Create a development CA, a certificate for this agent and one for a scheduler, and print "
                + "the agent.toml lines that use them. The agent's certificate names localhost, 127.0.0.1, ::1, "
                + "this machine's host name and every --host and --ip. Files: ca.pem, ca-key.pem, agent.pem, "
                + "agent-key.pem, scheduler.pem, scheduler-key.pem (keys mode 0600, directory 0700). Existing "
                + "files are never replaced without --force.",
            "For development: whoever has ca-key.pem can mint certificates the agent accepts. In production use "
                + "your own CA or pins (docs/tls.md).",
            "Exit codes: 0 ok, 2 files exist (use --force) or bad option, 3 bad config or a file cannot be written."})
final class TlsInitCommand implements Callable<Integer> {
    /** The six files exist and --force was not given: the command line must change, like a usage error. */
    static final int FILES_EXIST = ExitCodes.USAGE;
    /** A file cannot be written: the owner must act, as for a bad config. */
    static final int TLS_FILE_PROBLEM = ExitCodes.CONFIG;

    private static final Pattern DNS_NAME = Pattern.compile(
            "(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    @CommandLine.Mixin
    CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

    @CommandLine.Option(names = "--dir", paramLabel = "DIR",
            description = "where to write the files (default: agent.state_dir from the config + /tls, "
                    + "i.e. /var/lib/gpu-agent/tls, which the agent's user owns)")
    Path dir;

    @CommandLine.Option(names = "--host", paramLabel = "NAME",
            description = "a DNS name the scheduler dials to reach this agent (repeatable)")
    List<String> hosts = new ArrayList<>();

    @CommandLine.Option(names = "--ip", paramLabel = "ADDR",
            description = "an IP address the scheduler dials to reach this agent (repeatable)")
    List<String> ips = new ArrayList<>();

    @CommandLine.Option(names = "--scheduler-host", paramLabel = "NAME",
            description = "a DNS name for the scheduler's certificate, when the agent dials out to it "
                    + "(repeatable; it always names localhost, 127.0.0.1 and ::1)")
    List<String> schedulerHosts = new ArrayList<>();

    @CommandLine.Option(names = "--days", paramLabel = "N", defaultValue = "365",
            description = "validity of the agent's and the scheduler's certificates in days (default: 365); "
                    + "the CA's is ten years or N days, whichever is longer")
    int days;

    @CommandLine.Option(names = "--force", description = "replace existing files (a new CA: peers must get the new ca.pem)")
    boolean force;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (days < 1 || days > 36_500) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--days must be 1 to 36500, not " + days);
        }
        List<String> givenHosts = checkedDns(hosts, "--host");
        Set<String> agentDns = new LinkedHashSet<>(givenHosts);
        agentDns.add("localhost");
        String machine = machineHostName();
        if (machine != null && DNS_NAME.matcher(machine).matches()) {
            agentDns.add(machine.toLowerCase(Locale.ROOT));
        }
        Set<String> agentIps = new LinkedHashSet<>(checkedIps(ips));
        agentIps.add("127.0.0.1");
        agentIps.add("::1");
        Set<String> schedulerDns = new LinkedHashSet<>(checkedDns(schedulerHosts, "--scheduler-host"));
        schedulerDns.add("localhost");

        Path target;
        try {
            target = (dir != null ? dir : Path.of(options.load().agent().stateDir(), "tls")).toAbsolutePath().normalize();
        } catch (ConfigException e) {
            err.println("gpu-agent: configuration error: " + e.getMessage());
            err.println("gpu-agent: (the default --dir comes from agent.state_dir; pass --dir to choose it yourself)");
            return ExitCodes.CONFIG;
        }
        List<Path> present = DevTlsFiles.existing(target);
        if (!present.isEmpty() && !force) {
            err.println("gpu-agent: " + present.size() + " of the TLS files exist already in " + target + " (" + names(present)
                    + "); nothing was changed. Use --force to replace them all with a new CA (every peer then needs the "
                    + "new ca.pem), or --dir for another directory.");
            return FILES_EXIST;
        }
        String cn = !givenHosts.isEmpty() ? givenHosts.get(0) : machine != null ? machine : "gpu-agent";
        Instant now = Instant.now();
        Instant notBefore = now.minus(Duration.ofHours(1)); // a peer whose clock is a little behind still accepts it
        Instant leafNotAfter = now.plus(Duration.ofDays(days));
        Instant caNotAfter = now.plus(Duration.ofDays(Math.max(days, 3650)));
        DevCertificateAuthority ca;
        DevCertificateAuthority.Issued agent;
        DevCertificateAuthority.Issued scheduler;
        try {
            ca = DevCertificateAuthority.create("gpu-agent development CA " + cn, notBefore, caNotAfter);
            agent = ca.issue(cn, List.copyOf(agentDns), List.copyOf(agentIps), notBefore, leafNotAfter);
            scheduler = ca.issue("gpu-agent development scheduler", List.copyOf(schedulerDns),
                    List.of("127.0.0.1", "::1"), notBefore, leafNotAfter);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make EC P-256 keys or ECDSA signatures", e);
        }
        try {
            DevTlsFiles.write(target, ca, agent, scheduler, force);
        } catch (FileAlreadyExistsException e) {
            err.println("gpu-agent: " + e.getFile() + " appeared while writing; nothing else was replaced. Run again.");
            return FILES_EXIST;
        } catch (AccessDeniedException e) {
            err.println("gpu-agent: cannot write " + e.getFile() + ": permission denied. Run as the agent's user "
                    + "(sudo -u gpu-agent gpu-agent tls init) or as root, or choose a directory with --dir.");
            return TLS_FILE_PROBLEM;
        } catch (IOException e) {
            err.println("gpu-agent: cannot write the TLS files in " + target + ": " + e);
            return TLS_FILE_PROBLEM;
        }
        String owner = handToDirectoryOwner(target, err);
        report(out, target, owner, agent, scheduler, agentDns, agentIps);
        return ExitCodes.OK;
    }

    private void report(PrintWriter out, Path target, String owner, DevCertificateAuthority.Issued agent,
                        DevCertificateAuthority.Issued scheduler, Collection<String> dns, Collection<String> ipList) {
        out.println("Wrote a development CA and certificates to " + target + (owner != null ? " (owner " + owner + ")" : "") + ":");
        out.println("  ca.pem, ca-key.pem               the CA (its key only issues more certificates)");
        out.println("  agent.pem, agent-key.pem         this agent: " + String.join(", ", dns) + ", " + String.join(", ", ipList));
        out.println("  scheduler.pem, scheduler-key.pem a scheduler's client certificate");
        out.println("Valid until " + agent.certificate().getNotAfter().toInstant() + ".");
        out.println();
        out.println("Put these lines in the [market] section of agent.toml (/etc/gpu-agent/agent.toml):");
        out.println();
        out.println("[market]");
        out.println("tls_cert = \"" + target.resolve(DevTlsFiles.AGENT) + "\"");
        out.println("tls_key = \"" + target.resolve(DevTlsFiles.AGENT_KEY) + "\"");
        out.println("tls_ca = \"" + target.resolve(DevTlsFiles.CA) + "\"");
        out.println("# optional: accept only this scheduler certificate, not any the CA signs");
        out.println("# tls_pins = [\"" + Fingerprints.sha256(scheduler.certificate()) + "\"]");
        out.println();
        out.println("SHA-256 fingerprints (the form tls_pins takes):");
        out.println("  agent.pem      " + Fingerprints.sha256(agent.certificate()));
        out.println("  scheduler.pem  " + Fingerprints.sha256(scheduler.certificate()));
        out.println();
        out.println("The scheduler connects with scheduler.pem and scheduler-key.pem and trusts ca.pem.");
        out.println("WARNING: this CA is for development. Anyone with ca-key.pem can make certificates this agent");
        out.println("accepts: keep it private, never copy it to another machine, and use your own CA or pins in");
        out.println("production (docs/tls.md).");
        out.flush();
    }

    /**
     * Run as root (sudo) into a directory whose parent another user owns, such as the agent's
     * state directory: give the files to that user, or the agent could not read its own key.
     * Returns the owner's name when it did so.
     */
    private static String handToDirectoryOwner(Path target, PrintWriter err) {
        if (!"root".equals(System.getProperty("user.name")) || target.getParent() == null) {
            return null;
        }
        try {
            PosixFileAttributes parent = Files.readAttributes(target.getParent(), PosixFileAttributes.class);
            UserPrincipal user = parent.owner();
            GroupPrincipal group = parent.group();
            if (user.getName().equals("root")) {
                return null;
            }
            List<Path> paths = new ArrayList<>(List.of(target));
            for (String name : DevTlsFiles.ALL) {
                paths.add(target.resolve(name));
            }
            for (Path p : paths) {
                PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
                view.setOwner(user);
                view.setGroup(group);
            }
            return user.getName();
        } catch (IOException | UnsupportedOperationException e) {
            err.println("gpu-agent: warning: could not give " + target + " to the owner of its parent directory ("
                    + e + "): make sure the agent's user can read agent-key.pem");
            return null;
        }
    }

    private List<String> checkedDns(List<String> names, String option) {
        for (String h : names) {
            if (!DNS_NAME.matcher(h).matches() || h.length() > 253) {
                throw new CommandLine.ParameterException(spec.commandLine(), option + " " + h
                        + " is not a DNS name (letters, digits, hyphens and dots; for an address use --ip)");
            }
        }
        return names.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    }

    private List<String> checkedIps(List<String> addresses) {
        for (String a : addresses) {
            if (!a.matches("\\d{1,3}(\\.\\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--ip " + a
                        + " is not an IPv4 or IPv6 address (for a name use --host)");
            }
            try {
                java.net.InetAddress.getByName(a); // a literal: parsed, never looked up
            } catch (java.net.UnknownHostException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--ip " + a + " is not a valid address");
            }
        }
        return addresses;
    }

    /** The kernel's host name (no DNS lookup, which can hang on a badly configured machine). */
    private static String machineHostName() {
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).strip();
            return h.isEmpty() ? null : h;
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? null : env.strip();
        }
    }

    private static String names(List<Path> paths) {
        return String.join(", ", paths.stream().map(p -> p.getFileName().toString()).toList());
    }
}
