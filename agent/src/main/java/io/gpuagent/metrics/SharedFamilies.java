package io.gpuagent.metrics;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * A group of families that every scrape with the same input shares: collected once per key (for
 * the DCGM families, what the sampler published and which GPUs are fresh; for health states, the
 * states; for the JVM, the second) and written once per key and format, then copied as bytes into
 * each scrape until the key changes. A group must be contiguous in name order to be copied
 * ({@link Exposition}); one family, or a few with adjacent names, per group.
 *
 * <p>Thread safety: scrapes run concurrently on the HTTP event loops. The current {@link Entry} is
 * immutable except for its written bytes, which are set once per format; it is replaced, and its
 * bytes written, under one lock, so that scrapers arriving together at a new tick build it once
 * rather than each on its own. A scraper holding an older key (it read the samples just before a
 * tick, another one just after) may put the older entry back; the next scrape rebuilds. Either way
 * every scrape writes exactly the families of the state it read.
 *
 * @param <K> the key: equal keys must give equal families
 */
final class SharedFamilies<K> {
    /** Writes a group's families in one format, without the format's trailer. */
    interface Writing {
        /** @param sizeHint the size the group had last time in this format (a buffer big enough, once) */
        Written write(int format, MetricSnapshots families, int sizeHint) throws IOException;
    }

    /** A group's text in one format: the first {@code length} bytes of {@code bytes} (no copy to trim it). */
    record Written(byte[] bytes, int length) {
    }

    private final Function<GpuView, K> keyOf;
    private final Function<K, MetricSnapshots> collect;
    private final int formats;
    private final Object lock = new Object();
    private final AtomicLong builds = new AtomicLong();
    /** Per format, the size of the bytes last written (under the lock). */
    private final int[] lastSize;
    private volatile Entry<K> current;

    /**
     * @param formats how many formats to keep bytes for (the endpoint's writers, by index)
     * @param keyOf   what a scrape's families depend on, read from what the scrape sees (cheap)
     * @param collect builds the families of one key
     */
    SharedFamilies(int formats, Function<GpuView, K> keyOf, Function<K, MetricSnapshots> collect) {
        this.formats = formats;
        this.keyOf = keyOf;
        this.collect = collect;
        this.lastSize = new int[formats];
        Arrays.fill(lastSize, 256);
    }

    /** The families for what one scrape sees. */
    Entry<K> at(GpuView view) {
        return get(keyOf.apply(view));
    }

    /** The families of {@code key}: the shared entry when it is the current one, else built now. */
    Entry<K> get(K key) {
        Entry<K> e = current;
        if (e != null && e.key.equals(key)) {
            return e;
        }
        synchronized (lock) {
            e = current;
            if (e == null || !e.key.equals(key)) {
                e = new Entry<>(this, key, collect.apply(key));
                builds.incrementAndGet();
                current = e;
            }
            return e;
        }
    }

    /** How many times the families were collected: the test's view of the sharing. */
    long builds() {
        return builds.get();
    }

    /** One key's families and, per format, their bytes once written. */
    static final class Entry<K> {
        private final SharedFamilies<K> owner;
        final K key;
        final MetricSnapshots families;
        private final AtomicReferenceArray<Written> written;

        private Entry(SharedFamilies<K> owner, K key, MetricSnapshots families) {
            this.owner = owner;
            this.key = key;
            this.families = families;
            this.written = new AtomicReferenceArray<>(owner.formats);
        }

        /** The families in format {@code format}, written by {@code writing} the first time they are asked for. */
        Written written(int format, Writing writing) throws IOException {
            Written w = written.get(format);
            if (w != null) {
                return w;
            }
            synchronized (owner.lock) {
                w = written.get(format);
                if (w == null) {
                    w = writing.write(format, families, owner.lastSize[format] + owner.lastSize[format] / 8);
                    owner.lastSize[format] = w.length();
                    written.set(format, w);
                }
                return w;
            }
        }
    }
}
