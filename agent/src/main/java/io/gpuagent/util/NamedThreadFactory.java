package io.gpuagent.util;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every thread the agent starts has a name that says what it does ({@code gpu-agent-sampler},
 * {@code nvml-gpu-3-1}, ...), so that a thread dump or a log line points at the work.
 */
public final class NamedThreadFactory implements ThreadFactory {
    private final String prefix;
    private final boolean daemon;
    private final Thread.UncaughtExceptionHandler handler;
    private final AtomicInteger counter = new AtomicInteger();

    public NamedThreadFactory(String prefix, boolean daemon, Thread.UncaughtExceptionHandler handler) {
        this.prefix = prefix;
        this.daemon = daemon;
        this.handler = handler;
    }

    public NamedThreadFactory(String prefix, boolean daemon) {
        this(prefix, daemon, null);
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new Thread(r, prefix + "-" + counter.incrementAndGet());
        t.setDaemon(daemon);
        if (handler != null) {
            t.setUncaughtExceptionHandler(handler);
        }
        return t;
    }
}
