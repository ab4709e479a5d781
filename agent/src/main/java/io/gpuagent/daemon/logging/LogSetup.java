package io.gpuagent.daemon.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.CoreConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Logging to stderr in one of two shapes. Under systemd ({@code JOURNAL_STREAM} set) each line
 * starts with the {@code <N>} syslog priority prefix that journald turns into the entry's priority,
 * and carries no timestamp (journald adds its own); otherwise a plain timestamped line. Logs never
 * go to stdout, which belongs to command output such as {@code probe --json}.
 *
 * <p>Why here, in the daemon's room and not in {@code cli}: the two shapes exist for the daemon
 * under systemd, whose configuration ({@code log.level}, {@code log.format}) is the daemon's; the
 * command line only calls {@link #configure} once it has read that configuration. A sub-package of
 * its own keeps logback, like every library, in one small owner: the daemon's wiring and the
 * command line see SLF4J only.
 */
public final class LogSetup {
    static final String JOURNALD_PATTERN = "%syslogPriority[%thread] %logger{0}: %msg%n%ex{short}";
    static final String TEXT_PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0}: %msg%n";

    private LogSetup() {
    }

    /** Prints journald's priority prefix: {@code <3>} error, {@code <4>} warning, {@code <6>} info, {@code <7>} debug. */
    public static final class SyslogPriorityConverter extends ClassicConverter {
        @Override
        public String convert(ILoggingEvent event) {
            return switch (event.getLevel().toInt()) {
                case Level.ERROR_INT -> "<3>";
                case Level.WARN_INT -> "<4>";
                case Level.INFO_INT -> "<6>";
                default -> "<7>";
            };
        }
    }

    /**
     * @param level  trace | debug | info | warn | error
     * @param format auto | text | journald
     */
    public static void configure(String level, String format, Map<String, String> env) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return;
        }
        boolean journald = format.equals("journald") || (format.equals("auto") && env.get("JOURNAL_STREAM") != null);
        ctx.reset();
        @SuppressWarnings("unchecked")
        Map<String, Supplier<?>> rules = (Map<String, Supplier<?>>) ctx.getObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS);
        if (rules == null) {
            rules = new HashMap<>();
            ctx.putObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS, rules);
        }
        rules.put("syslogPriority", SyslogPriorityConverter::new);

        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(ctx);
        encoder.setPattern(journald ? JOURNALD_PATTERN : TEXT_PATTERN);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(ctx);
        appender.setName(journald ? "journald" : "stderr");
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        root.setLevel(Level.toLevel(level, Level.INFO));
    }
}
