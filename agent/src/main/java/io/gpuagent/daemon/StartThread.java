package io.gpuagent.daemon;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A piece of the daemon's start run on a thread of its own (a daemon thread with a name that says
 * what it does), to be joined at the step that needs it; its exception, checked or not, comes back
 * unwrapped at the join.
 */
final class StartThread {
    private StartThread() {
    }

    /** Runs {@code work} on a new thread named {@code name}. */
    static <T> CompletableFuture<T> run(String name, Callable<T> work) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return work.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        }, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.start();
        });
    }

    /**
     * The result of {@code f}, waiting for it; its failure rethrown as it was thrown: a
     * {@code checked} exception as such, unchecked ones and errors too.
     */
    static <T, E extends Exception> T join(CompletableFuture<T> f, Class<E> checked) throws E {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (checked.isInstance(c)) {
                throw checked.cast(c);
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error x) {
                throw x;
            }
            throw e;
        }
    }
}
