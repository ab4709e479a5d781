package io.gpuagent.testsupport;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code docker} CLI against the test engine (scripts/docker-test-env.sh), for what integration
 * tests check from outside the agent, and local images made from the busybox test image with extra
 * {@code ENV} lines ({@code docker commit --change}: nothing is pulled). {@link #close()} removes
 * the images it made.
 */
public final class TestDocker implements AutoCloseable {
    /** The busybox image scripts/docker-test-env.sh builds. */
    public static final String BASE_IMAGE = "gpu-agent-test/busybox:1";

    private final Path socket;
    private final List<String> images = new ArrayList<>();

    public TestDocker(Path socket) {
        this.socket = socket;
    }

    /** Runs {@code docker args...}; fails the test when it does not exit 0. Returns stdout and stderr. */
    public String run(String... args) throws Exception {
        Process p = start(args);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("docker " + String.join(" ", args) + ": " + out).isZero();
        return out;
    }

    /** Runs {@code docker args...} whatever it answers (clean-up of what may not exist). */
    public void quiet(String... args) throws Exception {
        Process p = start(args);
        p.getInputStream().readAllBytes();
        p.waitFor();
    }

    /** A local image {@code repo:tag} from {@link #BASE_IMAGE} whose config adds these ENV lines. */
    public String imageWith(String repo, String tag, String... envLines) throws Exception {
        String from = "gpu-agent-it-image-base-" + tag;
        quiet("rm", "-f", from);
        run("create", "--name", from, "--network", "none", BASE_IMAGE, "true");
        List<String> cmd = new ArrayList<>(List.of("commit"));
        for (String line : envLines) {
            cmd.add("--change");
            cmd.add("ENV " + line);
        }
        String image = repo + ":" + tag;
        cmd.add(from);
        cmd.add(image);
        run(cmd.toArray(String[]::new));
        run("rm", "-f", from);
        images.add(image);
        return image;
    }

    private Process start(String... args) throws Exception {
        List<String> c = new ArrayList<>(List.of("docker", "-H", "unix://" + socket));
        c.addAll(List.of(args));
        return new ProcessBuilder(c).redirectErrorStream(true).start();
    }

    @Override
    public void close() throws Exception {
        for (String image : images) {
            quiet("rmi", "-f", image);
        }
    }
}
