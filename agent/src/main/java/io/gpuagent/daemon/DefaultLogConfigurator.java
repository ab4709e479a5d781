package io.gpuagent.daemon;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.Map;

/**
 * Logback's configuration before the agent's config is read (found through ServiceLoader, so no
 * XML parser is loaded): warnings and errors to stderr, never to stdout, where
 * {@code probe --json} writes.
 */
public final class DefaultLogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        LogSetup.configure("warn", "auto", Map.of());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
