package io.gpuagent.container;

import java.util.Map;

/**
 * What an image's own configuration says, as the engine's image inspect reports it: enough for the
 * session layer to judge an image before any container of it exists (the CUDA it needs is in its
 * environment, {@code NVIDIA_REQUIRE_CUDA} and {@code CUDA_VERSION} in NVIDIA's images).
 *
 * @param id     the engine's image id ({@code sha256:...})
 * @param env    the image's {@code ENV}s; an entry without {@code =} is left out, and of a name given
 *               twice the last value counts (as the container runtime reads it)
 * @param labels the image's labels
 */
public record ImageConfig(String id, Map<String, String> env, Map<String, String> labels) {

    public ImageConfig {
        env = Map.copyOf(env);
        labels = Map.copyOf(labels);
    }

    /** {@code KEY=value} entries as the engine lists them, in order: the last of a name wins. */
    public static Map<String, String> parseEnv(java.util.List<String> entries) {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        if (entries != null) {
            for (String e : entries) {
                int eq = e == null ? -1 : e.indexOf('=');
                if (eq > 0) {
                    env.put(e.substring(0, eq), e.substring(eq + 1));
                }
            }
        }
        return env;
    }
}
