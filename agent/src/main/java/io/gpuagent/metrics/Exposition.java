package io.gpuagent.metrics;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one scrape from families collected fresh and {@link SharedFamilies} already written, with
 * exactly the bytes client_java's writer gives for all of them at once.
 *
 * <p>Why that holds: client_java's text writers write the families one after another in name order
 * (the order {@link MetricSnapshots} sorts them in), each family's text depending on that family
 * alone, then a trailer ({@code # EOF} for OpenMetrics, nothing for Prometheus text). So the
 * families are sorted together, as the writer would; a run of fresh families is written by the
 * writer with its trailer held back; a shared group is copied from its bytes (written once, the
 * trailer cut off); the trailer comes once at the end. A shared group that a fresh family sorts
 * into the middle of, and a writer that is not one of the endpoint's own (its output might not be
 * per family, e.g. with created timestamps), fall back to one call of the writer over everything:
 * the same bytes, nothing shared.
 */
final class Exposition {
    private static final EscapingScheme ESCAPING = EscapingScheme.ALLOW_UTF8;

    private final List<ExpositionFormatWriter> formats;
    private final byte[][] trailers;

    /** @param formats the writers whose shared bytes are kept, by index (the endpoint's own) */
    Exposition(List<ExpositionFormatWriter> formats) {
        this.formats = List.copyOf(formats);
        trailers = new byte[formats.size()][];
        for (int i = 0; i < trailers.length; i++) {
            // what the writer writes for no families at all is what it writes after the last one
            ByteArrayOutputStream empty = new ByteArrayOutputStream();
            try {
                formats.get(i).write(empty, MetricSnapshots.of(), ESCAPING);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            trailers[i] = empty.toByteArray();
        }
    }

    /** The index of one of the endpoint's own writers, -1 for any other. */
    int formatOf(ExpositionFormatWriter writer) {
        for (int i = 0; i < formats.size(); i++) {
            if (formats.get(i) == writer) {
                return i;
            }
        }
        return -1;
    }

    /** Writes the fresh families and the shared groups, in the writer's format. */
    void write(ExpositionFormatWriter writer, OutputStream out, List<MetricSnapshot> fresh,
               List<SharedFamilies.Entry<?>> shared) throws IOException {
        List<MetricSnapshot> all = new ArrayList<>(fresh);
        for (SharedFamilies.Entry<?> e : shared) {
            e.families.forEach(all::add);
        }
        // sorted as the writer expects them, and a name collected twice still fails as in client_java
        MetricSnapshots sorted = new MetricSnapshots(all);
        int format = formatOf(writer);
        List<Object> plan = format < 0 ? null : plan(sorted, shared);
        if (plan == null) {
            writer.write(out, sorted, ESCAPING);
            return;
        }
        byte[] trailer = trailers[format];
        SharedFamilies.Writing writing = this::writtenWithoutTrailer;
        for (Object part : plan) {
            if (part instanceof SharedFamilies.Entry<?> e) {
                SharedFamilies.Written w = e.written(format, writing);
                out.write(w.bytes(), 0, w.length());
            } else {
                WithoutTrailer run = new WithoutTrailer(out, trailer);
                writer.write(run, (MetricSnapshots) part, ESCAPING);
                run.finish();
            }
        }
        out.write(trailer);
    }

    /**
     * The parts in output order: runs of fresh families ({@link MetricSnapshots}) and shared groups
     * ({@link SharedFamilies.Entry}); null when a shared group is not contiguous in the order.
     */
    private static List<Object> plan(MetricSnapshots sorted, List<SharedFamilies.Entry<?>> shared) {
        Map<MetricSnapshot, SharedFamilies.Entry<?>> owner = new IdentityHashMap<>();
        for (SharedFamilies.Entry<?> e : shared) {
            e.families.forEach(s -> owner.put(s, e));
        }
        List<Object> plan = new ArrayList<>(2 * shared.size() + 1);
        List<MetricSnapshot> run = new ArrayList<>();
        int i = 0;
        while (i < sorted.size()) {
            SharedFamilies.Entry<?> e = owner.get(sorted.get(i));
            if (e == null) {
                run.add(sorted.get(i++));
                continue;
            }
            int end = i + e.families.size();
            for (int j = i; j < end; j++) {
                if (j >= sorted.size() || owner.get(sorted.get(j)) != e) {
                    return null;
                }
            }
            if (!run.isEmpty()) {
                plan.add(new MetricSnapshots(run));
                run = new ArrayList<>();
            }
            plan.add(e);
            i = end;
        }
        if (!run.isEmpty()) {
            plan.add(new MetricSnapshots(run));
        }
        return plan;
    }

    private SharedFamilies.Written writtenWithoutTrailer(int format, MetricSnapshots families, int sizeHint)
            throws IOException {
        Buffer buf = new Buffer(sizeHint);
        WithoutTrailer out = new WithoutTrailer(buf, trailers[format]);
        formats.get(format).write(out, families, ESCAPING);
        out.finish();
        return buf.written();
    }

    /** A byte array stream whose array is kept as it is (toByteArray would copy it once more). */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer(int size) {
            super(size);
        }

        SharedFamilies.Written written() {
            return new SharedFamilies.Written(buf, count);
        }
    }

    /**
     * Passes a writer's output on except its last {@code trailer.length} bytes, which it holds back
     * and which must be the trailer: the writer is called once per run, the trailer written once.
     */
    static final class WithoutTrailer extends OutputStream {
        private final OutputStream out;
        private final byte[] trailer;
        private final byte[] held;
        private int heldLength;

        WithoutTrailer(OutputStream out, byte[] trailer) {
            this.out = out;
            this.trailer = trailer;
            this.held = new byte[trailer.length];
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int t = trailer.length;
            if (len >= t) {
                // what is held is followed by at least t more bytes: it is not the end
                out.write(held, 0, heldLength);
                out.write(b, off, len - t);
                System.arraycopy(b, off + len - t, held, 0, t);
                heldLength = t;
                return;
            }
            int excess = heldLength + len - t;
            if (excess > 0) {
                out.write(held, 0, excess);
                System.arraycopy(held, excess, held, 0, heldLength - excess);
                heldLength -= excess;
            }
            System.arraycopy(b, off, held, heldLength, len);
            heldLength += len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() {
            // the scrape's stream stays open: more parts follow
        }

        /** Checks that what was held back is the trailer. */
        void finish() {
            if (heldLength != trailer.length || !Arrays.equals(held, trailer)) {
                throw new IllegalStateException("the exposition writer's output did not end with its trailer "
                        + "(client_java changed its format?)");
            }
        }
    }
}
