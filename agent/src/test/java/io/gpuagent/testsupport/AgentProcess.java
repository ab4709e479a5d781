package io.gpuagent.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the packaged {@code gpu-agent.jar} as a separate process, as an owner or systemd would. */
public final class AgentProcess {
    /** A finished run. */
    public record Result(int exitCode, String stdout, String stderr) {
    }

    private AgentProcess() {
    }

    public static Path jar() {
        Path jar = Path.of(System.getProperty("gpuagent.agentJar",
                SimNvml.repoRoot().resolve("agent/target/gpu-agent.jar").toString()));
        if (!Files.exists(jar)) {
            throw new IllegalStateException("agent jar not built at " + jar + ": run `mvn verify` (integration tests "
                    + "run after packaging)");
        }
        return jar;
    }

    public static ProcessBuilder builder(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-jar");
        cmd.add(jar().toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("GPU_AGENT_SIM_CONFIG");
        pb.environment().remove("GPU_AGENT_SIM_CONTROL");
        pb.environment().remove("NOTIFY_SOCKET");
        pb.environment().remove("JOURNAL_STREAM");
        pb.environment().putAll(env);
        return pb;
    }

    /**
     * {@code pb} run through {@code sh -c 'umask UMASK; exec "$0" "$@"'}: the agent as an owner's
     * shell would start it (the JDK cannot set a child's umask itself).
     */
    public static ProcessBuilder withUmask(String umask, ProcessBuilder pb) {
        if (!umask.matches("[0-7]{3,4}")) {
            throw new IllegalArgumentException("not an octal umask: " + umask);
        }
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "umask " + umask + "; exec \"$0\" \"$@\""));
        cmd.addAll(pb.command());
        return pb.command(cmd);
    }

    public static Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
        return run(builder(env, args), args);
    }

    /** Runs {@code pb} (from {@link #builder}, perhaps {@link #withUmask}) to its end, within 60 s. */
    public static Result run(ProcessBuilder pb, String... args) throws IOException, InterruptedException {
        Process p = pb.start();
        p.getOutputStream().close();
        var out = p.getInputStream();
        var err = p.getErrorStream();
        byte[][] buffers = new byte[2][];
        Thread t = new Thread(() -> {
            try {
                buffers[1] = err.readAllBytes();
            } catch (IOException e) {
                buffers[1] = e.toString().getBytes(StandardCharsets.UTF_8);
            }
        });
        t.start();
        buffers[0] = out.readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("gpu-agent " + String.join(" ", args) + " did not finish within 60 s");
        }
        t.join();
        return new Result(p.exitValue(), new String(buffers[0], StandardCharsets.UTF_8),
                new String(buffers[1], StandardCharsets.UTF_8));
    }
}
