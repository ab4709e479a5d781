package io.gpuagent.testsupport;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The simulated NVML library (native/build/libnvidia-ml.so.1) for integration tests. It reads
 * {@code GPU_AGENT_SIM_CONFIG} / {@code GPU_AGENT_SIM_CONTROL} with getenv() at nvmlInit, so a
 * test sets them in this process with libc's setenv before opening the driver. Fails loudly when
 * the library was not built: integration tests never skip.
 */
public final class SimNvml {
    interface CLib extends Library {
        int setenv(String name, String value, int overwrite);

        int unsetenv(String name);
    }

    private static final CLib C = Native.load("c", CLib.class);

    private SimNvml() {
    }

    public static Path repoRoot() {
        return Path.of(System.getProperty("gpuagent.repoRoot", "..")).toAbsolutePath().normalize();
    }

    /** The built simulated library; throws when missing (run `mvn verify` from the root, which builds it). */
    public static String library() {
        Path p = Path.of(System.getProperty("gpuagent.simNvmlLibrary",
                repoRoot().resolve("native/build/libnvidia-ml.so.1").toString()));
        if (!Files.exists(p)) {
            throw new IllegalStateException("simulated NVML not built at " + p + ": run `make -C native` "
                    + "or `mvn verify` from the repository root");
        }
        return p.toString();
    }

    public static Path machine(String name) {
        Path p = repoRoot().resolve("config/sim").resolve(name);
        if (!Files.exists(p)) {
            throw new IllegalStateException("no simulated machine file " + p);
        }
        return p;
    }

    /** Points the simulated library at a machine file and (optionally) a control file. */
    public static void use(Path machine, Path control) {
        C.setenv("GPU_AGENT_SIM_CONFIG", machine.toString(), 1);
        if (control != null) {
            C.setenv("GPU_AGENT_SIM_CONTROL", control.toString(), 1);
        } else {
            C.unsetenv("GPU_AGENT_SIM_CONTROL");
        }
    }

    public static void unsetConfig() {
        C.unsetenv("GPU_AGENT_SIM_CONFIG");
        C.unsetenv("GPU_AGENT_SIM_CONTROL");
    }

    /** Appends one fault-injection command to the (append-only) control file. */
    public static void command(Path control, String line) throws IOException {
        Files.writeString(control, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
    }
}
