package io.gpuagent.daemon.logging;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.core.spi.ContextAwareBase;

import java.util.Map;

/**
 * Logback's configuration before the agent's config is read (found through ServiceLoader, so no
 * XML parser is loaded): warnings and errors to stderr, never to stdout, where
 * {@code probe --json} writes. Registered in
 * {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}, which names this class: a move
 * or rename must follow there.
 */
public final class DefaultLogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        LogSetup.configure("warn", "auto", Map.of());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
