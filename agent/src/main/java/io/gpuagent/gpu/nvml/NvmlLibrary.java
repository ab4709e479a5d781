package io.gpuagent.gpu.nvml;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import io.gpuagent.gpu.GpuUnavailableException;

import java.io.File;

/**
 * The loaded {@code libnvidia-ml.so.1} and its symbols, resolved once. NVIDIA versions symbols
 * ({@code nvmlInit_v2}, {@code nvmlDeviceGetPciInfo_v3}, ...) and keeps the old names for old
 * clients; we look up the newest name first and fall back, as go-nvml does, so that the same
 * binary works from R450 drivers to today's. A symbol missing under every name resolves to
 * {@code null} and its feature reads as not supported.
 */
final class NvmlLibrary {
    /** The soname every NVIDIA driver installs; found through the dynamic loader's search path. */
    static final String DEFAULT_LIBRARY = "libnvidia-ml.so.1";

    private final NativeLibrary library;
    private final String path;

    private NvmlLibrary(NativeLibrary library, String path) {
        this.library = library;
        this.path = path;
    }

    /**
     * Loads the library (no NVML call is made yet).
     *
     * @param path an absolute path, or null/blank for the system's {@value #DEFAULT_LIBRARY}
     */
    static NvmlLibrary load(String path) throws GpuUnavailableException {
        String name = path == null || path.isBlank() ? DEFAULT_LIBRARY : path;
        if (name.contains("/") && !new File(name).exists()) {
            throw new GpuUnavailableException(GpuUnavailableException.Kind.LIBRARY, "NVML_ERROR_LIBRARY_NOT_FOUND",
                    "NVML library not found at " + name + ": set gpu.nvml_library in agent.toml to the path of "
                            + "libnvidia-ml.so.1 (from the NVIDIA driver), or leave it empty to use the system's", null);
        }
        try {
            NativeLibrary lib = NativeLibrary.getInstance(name);
            return new NvmlLibrary(lib, loadedPath(lib, name));
        } catch (UnsatisfiedLinkError e) {
            throw new GpuUnavailableException(GpuUnavailableException.Kind.LIBRARY, "NVML_ERROR_LIBRARY_NOT_FOUND",
                    "cannot load the NVML library " + name + " (" + firstLine(e.getMessage()) + "). "
                            + "Install the NVIDIA driver (it ships libnvidia-ml.so.1), or set gpu.nvml_library in "
                            + "agent.toml to its full path; on a machine without GPUs, try the simulated library: "
                            + "see README.md", e);
        }
    }

    String path() {
        return path;
    }

    /**
     * Where the library really is. Loaded by its soname through the loader's search path, JNA's
     * {@code getFile()} is just that name resolved against the working directory (seen on a real
     * H100: "/work/main/libnvidia-ml.so.1"), so the process's own mappings say.
     */
    static String loadedPath(NativeLibrary lib, String name) {
        if (lib.getFile() != null && lib.getFile().exists()) {
            return lib.getFile().getAbsolutePath();
        }
        String base = new File(name).getName();
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.endsWith("/" + base)) {
                    return line.substring(slash);
                }
            }
            // the soname may point at a versioned file (libnvidia-ml.so.580.159.04)
            String stem = base.replaceAll("\\.so.*$", ".so");
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash >= 0 && line.substring(line.lastIndexOf('/') + 1).startsWith(stem)) {
                    return line.substring(slash);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: the name is the best we know
        }
        return name;
    }

    /** The first of {@code names} that the library exports, or null when it exports none. */
    Function resolve(String... names) {
        for (String n : names) {
            try {
                return library.getFunction(n);
            } catch (UnsatisfiedLinkError missing) {
                // older or newer driver: try the next name
            }
        }
        return null;
    }

    /** Like {@link #resolve} but for symbols without which NVML cannot be used at all. */
    Function require(String... names) throws GpuUnavailableException {
        Function f = resolve(names);
        if (f == null) {
            throw new GpuUnavailableException(GpuUnavailableException.Kind.LIBRARY, "NVML_ERROR_FUNCTION_NOT_FOUND",
                    path + " does not export " + String.join(" or ", names) + ": it is not an NVML library, or "
                            + "one too old for this agent (R450 or newer is needed)", null);
        }
        return f;
    }

    boolean exports(String name) {
        return resolve(name) != null;
    }

    /** The loader's own reason (JNA puts it on a later line, after "Unable to load library"). */
    private static String firstLine(String s) {
        if (s == null) {
            return "no reason given";
        }
        for (String line : s.split("\n")) {
            String l = line.strip();
            if (l.contains("cannot open shared object file") || l.contains("wrong ELF class")
                    || l.contains("invalid ELF header") || l.contains("file too short") || l.contains("undefined symbol")) {
                return l.replaceFirst("^[^a-zA-Z/]+", "");
            }
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
