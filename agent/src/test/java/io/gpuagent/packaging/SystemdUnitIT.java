package io.gpuagent.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd packaging, checked with systemd's own tools: the unit is valid ({@code systemd-analyze
 * verify}, run on a staging root where the install script put the unit and its launcher, because
 * verify requires ExecStart's binary to exist), its sandbox scores an exposure of 2.0 or less
 * ({@code systemd-analyze security --offline=true}), and {@code scripts/install.sh --root} installs
 * idempotently, never overwrites the owner's config, and uninstalls.
 *
 * <p>Needs {@code systemd-analyze} (Debian package {@code systemd}); without it the test fails
 * rather than skips, so a CI machine without it cannot pass by accident. Nothing here touches the
 * running system: every install goes into a temporary root.
 */
class SystemdUnitIT {

    private static final Pattern EXPOSURE =
            Pattern.compile("Overall exposure level for gpu-agent\\.service:\\s*([0-9]+(?:\\.[0-9]+)?)");
    private static final long TIMEOUT_SECONDS = 120;

    private static Path repo;
    private static Path unit;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findRepositoryAndTools() throws Exception {
        repo = repositoryRoot();
        unit = repo.resolve("systemd/gpu-agent.service");
        try {
            Result version = run(List.of("systemd-analyze", "--version"), Map.of());
            assertThat(version.exit).as("systemd-analyze --version\n%s", version.output).isZero();
        } catch (IOException e) {
            fail("systemd-analyze is missing: install it with 'apt-get install systemd' (" + e.getMessage() + ")");
        }
    }

    @Test
    void unitVerifiesCleanlyOnceInstalled() throws Exception {
        Path root = tmp.resolve("root");
        install(root, dummyJar()).assertSucceeded();
        // verify resolves the unit's dependencies (sysinit.target, ...) in the root: give it the host's.
        Path hostUnits = Files.isDirectory(Path.of("/usr/lib/systemd/system"))
                ? Path.of("/usr/lib/systemd/system") : Path.of("/lib/systemd/system");
        Files.createDirectories(root.resolve("usr/lib/systemd"));
        run(List.of("cp", "-a", hostUnits.toString(), root.resolve("usr/lib/systemd/").toString()), Map.of())
                .assertSucceeded();

        Result verify;
        try {
            verify = run(List.of("systemd-analyze", "verify", "--root=" + root, "gpu-agent.service"), Map.of());
        } finally {
            // The copy holds links to /dev/null (masked units): remove it here, not in @TempDir's warnings.
            run(List.of("rm", "-rf", root.resolve("usr/lib/systemd/system").toString()), Map.of()).assertSucceeded();
        }

        assertThat(verify.exit).as("systemd-analyze verify\n%s", verify.output).isZero();
        assertThat(verify.output.lines().filter(l -> l.contains("gpu-agent")))
                .as("systemd-analyze verify complaints about the unit").isEmpty();
    }

    @Test
    void exposureLevelIsAtMostTwo() throws Exception {
        Result security = run(List.of("systemd-analyze", "security", "--offline=true", "--no-pager", unit.toString()),
                Map.of());

        Matcher m = EXPOSURE.matcher(security.output);
        assertThat(m.find()).as("no exposure level in:\n%s", security.output).isTrue();
        assertThat(Double.parseDouble(m.group(1))).as("exposure\n%s", security.output).isLessThanOrEqualTo(2.0);
    }

    @Test
    void unitHasTheSettingsTheDesignRequires() throws Exception {
        Map<String, List<String>> service = serviceSection(Files.readString(unit));

        assertThat(service.get("Type")).containsExactly("notify");
        assertThat(service.get("NotifyAccess")).containsExactly("main");
        assertThat(service.get("WatchdogSec")).containsExactly("30s");
        assertThat(service.get("ExecStart")).containsExactly("/usr/bin/gpu-agent run --config /etc/gpu-agent/agent.toml");
        assertThat(service.get("User")).containsExactly("gpu-agent");
        assertThat(service.get("SupplementaryGroups")).containsExactly("docker");
        assertThat(service.get("StateDirectory")).containsExactly("gpu-agent");
        assertThat(service.get("StateDirectoryMode")).containsExactly("0700");
        assertThat(service.get("LoadCredential")).containsExactly("wallet-password:/etc/gpu-agent/wallet-password");
        assertThat(service.get("NoNewPrivileges")).containsExactly("yes");
        assertThat(service.get("CapabilityBoundingSet")).containsExactly("");
        assertThat(service.get("AmbientCapabilities")).containsExactly("");
        assertThat(service.get("ProtectSystem")).containsExactly("strict");
        assertThat(service.get("ProtectHome")).containsExactly("yes");
        assertThat(service.get("PrivateTmp")).containsExactly("yes");
        assertThat(service.get("DevicePolicy")).containsExactly("closed");
        assertThat(service.get("DeviceAllow")).contains("char-nvidia-frontend rw", "char-nvidia-uvm rw");
        assertThat(service.get("UMask")).containsExactly("0077");
        assertThat(service.get("SystemCallFilter")).contains("@system-service");
        assertThat(service.get("RestrictAddressFamilies")).containsExactly("AF_UNIX AF_INET AF_INET6");
        // A JIT needs writable+executable memory: the one setting a JVM cannot have.
        assertThat(service).doesNotContainKey("MemoryDenyWriteExecute");
    }

    @Test
    void installIsIdempotentAndKeepsTheOwnersConfig() throws Exception {
        Path root = tmp.resolve("root");
        Path jar = dummyJar();
        Path config = root.resolve("etc/gpu-agent/agent.toml");
        Files.createDirectories(config.getParent());
        Files.writeString(config, "# the owner's own settings\n");

        Result first = install(root, jar);
        Result second = install(root, jar);

        first.assertSucceeded();
        second.assertSucceeded();
        assertThat(first.output).contains("installed /usr/lib/gpu-agent/gpu-agent.jar", "systemctl enable --now gpu-agent");
        assertThat(second.output).contains("unchanged /usr/lib/gpu-agent/gpu-agent.jar", "unchanged /usr/bin/gpu-agent",
                "unchanged /etc/systemd/system/gpu-agent.service", "kept /etc/gpu-agent/agent.toml");
        assertThat(Files.readString(config)).isEqualTo("# the owner's own settings\n");
        assertThat(Files.readAllBytes(root.resolve("usr/lib/gpu-agent/gpu-agent.jar"))).isEqualTo(Files.readAllBytes(jar));
        assertThat(Files.readString(root.resolve("etc/systemd/system/gpu-agent.service"))).isEqualTo(Files.readString(unit));
        assertMode(root, "usr/lib/gpu-agent/gpu-agent.jar", "rw-r--r--");
        assertMode(root, "usr/bin/gpu-agent", "rwxr-xr-x");
        assertMode(root, "etc/systemd/system/gpu-agent.service", "rw-r--r--");
        assertMode(root, "etc/sysusers.d/gpu-agent.conf", "rw-r--r--");
        assertMode(root, "etc/tmpfiles.d/gpu-agent.conf", "rw-r--r--");
        assertMode(root, "etc/gpu-agent", "rwxr-x---");
        assertMode(root, "var/lib/gpu-agent", "rwx------");
        assertMode(root, "var/cache/gpu-agent", "rwx------");
        if (runningAsRoot()) {
            // systemd-sysusers (or useradd) created the user in the staging root's own database.
            String passwd = Files.readString(root.resolve("etc/passwd"));
            Matcher user = Pattern.compile("(?m)^gpu-agent:x:(\\d+):(\\d+):[^:]*:/var/lib/gpu-agent:/usr/sbin/nologin$")
                    .matcher(passwd);
            assertThat(user.find()).as("gpu-agent in %s", passwd).isTrue();
            int uid = Integer.parseInt(user.group(1));
            int gid = Integer.parseInt(user.group(2));
            assertThat(Files.readString(root.resolve("etc/group"))).containsPattern("(?m)^docker:x:\\d+:(.*,)?gpu-agent(,.*)?$");
            assertThat(Files.getAttribute(root.resolve("var/lib/gpu-agent"), "unix:uid")).isEqualTo(uid);
            assertThat(Files.getAttribute(root.resolve("etc/gpu-agent"), "unix:uid")).isEqualTo(0);
            assertThat(Files.getAttribute(root.resolve("etc/gpu-agent"), "unix:gid")).isEqualTo(gid);
        }
    }

    @Test
    void freshInstallCopiesTheExampleConfigAndTheLauncherRunsTheJar() throws Exception {
        Path root = tmp.resolve("root");
        install(root, dummyJar()).assertSucceeded();

        Path config = root.resolve("etc/gpu-agent/agent.toml");
        assertThat(Files.readString(config)).isEqualTo(Files.readString(repo.resolve("config/agent.toml")));
        assertMode(root, "etc/gpu-agent/agent.toml", "rw-r-----");
        // LoadCredential= needs the file: an empty root-only placeholder until a wallet exists
        assertThat(root.resolve("etc/gpu-agent/wallet-password")).isEmptyFile();
        assertMode(root, "etc/gpu-agent/wallet-password", "rw-------");

        Map<String, String> env = new HashMap<>();
        env.put("GPU_AGENT_HOME", root.resolve("usr/lib/gpu-agent").toString());
        env.put("JAVA_HOME", System.getProperty("java.home"));
        Result launched = run(List.of(root.resolve("usr/bin/gpu-agent").toString(), "probe", "--json"), env);

        launched.assertSucceeded();
        // The dummy main prints its arguments and the heap cap: the launcher's -Xmx64m arrived.
        assertThat(launched.output).contains("dummy gpu-agent [probe, --json]").containsPattern("maxHeapMiB=(5\\d|6\\d)\\b");
    }

    @Test
    void uninstallKeepsConfigAndStateUnlessPurged() throws Exception {
        Path root = tmp.resolve("root");
        install(root, dummyJar()).assertSucceeded();
        Files.writeString(root.resolve("var/lib/gpu-agent/journal-000001.wal"), "billed seconds");

        Result uninstall = run(List.of("bash", repo.resolve("scripts/install.sh").toString(), "--uninstall",
                "--root", root.toString()), javaEnv());

        uninstall.assertSucceeded();
        assertThat(root.resolve("usr/bin/gpu-agent")).doesNotExist();
        assertThat(root.resolve("usr/lib/gpu-agent")).doesNotExist();
        assertThat(root.resolve("etc/systemd/system/gpu-agent.service")).doesNotExist();
        assertThat(root.resolve("etc/sysusers.d/gpu-agent.conf")).doesNotExist();
        assertThat(root.resolve("etc/tmpfiles.d/gpu-agent.conf")).doesNotExist();
        assertThat(root.resolve("etc/gpu-agent/agent.toml")).exists();
        assertThat(root.resolve("var/lib/gpu-agent/journal-000001.wal")).hasContent("billed seconds");

        Result purge = run(List.of("bash", repo.resolve("scripts/install.sh").toString(), "--uninstall", "--purge",
                "--root", root.toString()), javaEnv());

        purge.assertSucceeded();
        assertThat(root.resolve("etc/gpu-agent")).doesNotExist();
        assertThat(root.resolve("var/lib/gpu-agent")).doesNotExist();
    }

    // --- helpers -------------------------------------------------------------------------------

    private Result install(Path root, Path jar) throws Exception {
        return run(List.of("bash", repo.resolve("scripts/install.sh").toString(), "--root", root.toString(),
                jar.toString()), javaEnv());
    }

    private static Map<String, String> javaEnv() {
        return Map.of("JAVA_HOME", System.getProperty("java.home"));
    }

    /** A runnable jar whose main prints its arguments and the JVM's heap cap, standing in for the agent. */
    private Path dummyJar() throws IOException {
        Path src = tmp.resolve("dummy-src/io/gpuagent/dummy/Main.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "package io.gpuagent.dummy;\n"
                + "public class Main { public static void main(String[] a) {\n"
                + "  System.out.println(\"dummy gpu-agent \" + java.util.Arrays.toString(a)\n"
                + "      + \" maxHeapMiB=\" + Runtime.getRuntime().maxMemory() / 1048576); } }\n");
        Path classes = tmp.resolve("dummy-classes");
        Files.createDirectories(classes);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac).as("a JDK (javac) to build the dummy jar").isNotNull();
        assertThat(javac.run(null, null, null, "-d", classes.toString(), src.toString())).isZero();

        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "io.gpuagent.dummy.Main");
        Path jar = tmp.resolve("gpu-agent.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out, manifest)) {
            jarOut.putNextEntry(new JarEntry("io/gpuagent/dummy/Main.class"));
            jarOut.write(Files.readAllBytes(classes.resolve("io/gpuagent/dummy/Main.class")));
            jarOut.closeEntry();
        }
        return jar;
    }

    private static void assertMode(Path root, String relative, String mode) throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(relative))))
                .as("mode of /%s", relative).isEqualTo(mode);
    }

    private static boolean runningAsRoot() throws IOException {
        return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    }

    /** The [Service] section as key -> values in order (a key may repeat, an empty value resets nothing here). */
    private static Map<String, List<String>> serviceSection(String text) {
        Map<String, List<String>> settings = new LinkedHashMap<>();
        String section = "";
        for (String raw : text.lines().toList()) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[")) {
                section = line;
            } else if (section.equals("[Service]") && line.contains("=")) {
                int eq = line.indexOf('=');
                settings.computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>())
                        .add(line.substring(eq + 1).strip());
            }
        }
        return settings;
    }

    /** Failsafe passes the repository root; run by hand, it is the nearest parent holding systemd/. */
    private static Path repositoryRoot() {
        String configured = System.getProperty("gpuagent.repoRoot");
        if (configured != null && !configured.isBlank()
                && Files.isRegularFile(Path.of(configured, "systemd/gpu-agent.service"))) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("systemd/gpu-agent.service"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no systemd/gpu-agent.service above " + Path.of("").toAbsolutePath());
    }

    private record Result(List<String> command, int exit, String output) {
        void assertSucceeded() {
            assertThat(exit).as("%s exited with %d:\n%s", String.join(" ", command), exit, output).isZero();
        }
    }

    private static Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        Path log = Files.createTempFile("systemd-unit-it", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            pb.environment().putAll(env);
            pb.environment().put("SYSTEMD_COLORS", "0");
            pb.environment().put("SYSTEMD_PAGER", "");
            Process p = pb.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s:\n" + Files.readString(log));
            }
            return new Result(command, p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
