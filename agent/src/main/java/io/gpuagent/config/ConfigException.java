package io.gpuagent.config;

/**
 * The configuration cannot be used. The message names the source (file, environment variable or
 * command-line option), the key's dotted path, the bad value and what is allowed.
 */
public final class ConfigException extends Exception {
    private final String key;

    public ConfigException(String key, String message) {
        super(message);
        this.key = key;
    }

    public ConfigException(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The dotted key path ({@code gpu.sample_interval_ms}), or null for whole-file problems. */
    public String key() {
        return key;
    }
}
