package io.gpuagent.gpu.nvml;

import com.sun.jna.NativeLibrary;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Regression: on a real H100 the agent logged NVML as "/work/main/libnvidia-ml.so.1" (the working
 * directory plus the soname): loaded through the search path, JNA's file is only the name.
 */
class NvmlLibraryPathTest {
    @Test
    void aLibraryFoundOnTheSearchPathIsNamedByItsRealPath() {
        NativeLibrary libc = NativeLibrary.getInstance("libc.so.6");
        String path = NvmlLibrary.loadedPath(libc, "libc.so.6");
        assertThat(path).startsWith("/").endsWith("libc.so.6").doesNotStartWith(System.getProperty("user.dir") + "/libc");
        assertThat(Files.exists(Path.of(path))).isTrue();
    }
}
