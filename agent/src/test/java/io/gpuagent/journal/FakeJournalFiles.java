package io.gpuagent.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An in-memory journal directory with knobs: a capacity (writes past it are cut short and then fail
 * with ENOSPC, as write(2) does), failing fsyncs or writes, counters, and a model of what is
 * durable: {@link #crash()} returns the directory as stable storage has it (file contents as of
 * their last fsync, names as of the last directory fsync). Passes the same contract as the disk.
 */
public final class FakeJournalFiles implements JournalFiles {
    private static final class Node {
        byte[] data = new byte[0];
        int size;
        byte[] durable = new byte[0];
    }

    private final Map<String, Node> names = new HashMap<>();
    private Map<String, Node> durableNames = new HashMap<>();
    private long capacity = Long.MAX_VALUE;
    private IOException forceFailure;
    private IOException writeFailure;
    private Runnable onForce = () -> { };
    private int forces;
    private int writes;
    private int directorySyncs;

    // ---- knobs ----

    /** Total bytes all files may hold; growing past it writes what fits, then fails with ENOSPC. */
    public synchronized void capacity(long bytes) {
        capacity = bytes;
    }

    /** Room for {@code bytes} more bytes than the files hold now. */
    public synchronized void spaceLeft(long bytes) {
        capacity = used() + bytes;
    }

    public synchronized void unlimitedSpace() {
        capacity = Long.MAX_VALUE;
    }

    /** Every fsync (file or directory) fails with {@code e} from now on; null heals. */
    public synchronized void failForces(IOException e) {
        forceFailure = e;
    }

    /** Every write fails with {@code e} from now on; null heals. */
    public synchronized void failWrites(IOException e) {
        writeFailure = e;
    }

    /** Runs inside every file fsync (e.g. to move a manual clock). */
    synchronized void onForce(Runnable r) {
        onForce = r;
    }

    synchronized int forces() {
        return forces;
    }

    synchronized int writes() {
        return writes;
    }

    synchronized int directorySyncs() {
        return directorySyncs;
    }

    synchronized long used() {
        return names.values().stream().mapToLong(n -> n.size).sum();
    }

    /** The bytes of a file as they are now (durable or not). */
    synchronized byte[] content(String name) {
        Node n = names.get(name);
        return n == null ? null : Arrays.copyOf(n.data, n.size);
    }

    /** What a power cut leaves: durable names with their durable contents, knobs reset. */
    public synchronized FakeJournalFiles crash() {
        FakeJournalFiles after = new FakeJournalFiles();
        durableNames.forEach((name, node) -> {
            Node copy = new Node();
            copy.data = node.durable.clone();
            copy.size = copy.data.length;
            copy.durable = copy.data.clone();
            after.names.put(name, copy);
        });
        after.durableNames = new HashMap<>(after.names);
        return after;
    }

    // ---- JournalFiles ----

    @Override
    public synchronized List<String> list() {
        return new ArrayList<>(names.keySet());
    }

    @Override
    public synchronized SegmentFile create(String name) throws IOException {
        if (names.containsKey(name)) {
            throw new FileAlreadyExistsException(describe(name));
        }
        Node n = new Node();
        names.put(name, n);
        return new File(n, true);
    }

    @Override
    public synchronized SegmentFile open(String name, boolean writable) throws IOException {
        Node n = names.get(name);
        if (n == null) {
            throw new NoSuchFileException(describe(name));
        }
        return new File(n, writable);
    }

    @Override
    public synchronized void delete(String name) throws IOException {
        if (names.remove(name) == null) {
            throw new NoSuchFileException(describe(name));
        }
    }

    @Override
    public synchronized void syncDirectory() throws IOException {
        if (forceFailure != null) {
            throw forceFailure;
        }
        directorySyncs++;
        durableNames = new HashMap<>(names);
    }

    @Override
    public String describe(String name) {
        return "/fake/journal/" + name;
    }

    private final class File implements SegmentFile {
        private final Node node;
        private final boolean writable;
        private boolean closed;

        File(Node node, boolean writable) {
            this.node = node;
            this.writable = writable;
        }

        @Override
        public long size() throws IOException {
            synchronized (FakeJournalFiles.this) {
                open();
                return node.size;
            }
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            synchronized (FakeJournalFiles.this) {
                open();
                if (position >= node.size) {
                    return -1;
                }
                int n = (int) Math.min(dst.remaining(), node.size - position);
                dst.put(node.data, (int) position, n);
                return n;
            }
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            synchronized (FakeJournalFiles.this) {
                open();
                if (!writable) {
                    throw new NonWritableChannelException();
                }
                writes++;
                if (writeFailure != null) {
                    throw writeFailure;
                }
                long end = position + src.remaining();
                long growth = Math.max(0, end - node.size);
                long room = capacity - used();
                int n = src.remaining();
                if (growth > room) {
                    n = (int) Math.max(0, Math.min(n, node.size + room - position));
                    if (n == 0) {
                        throw new IOException("No space left on device");
                    }
                }
                int newSize = (int) Math.max(node.size, position + n);
                if (newSize > node.data.length) {
                    node.data = Arrays.copyOf(node.data, Math.max(newSize, node.data.length * 2));
                }
                src.get(node.data, (int) position, n);
                node.size = newSize;
                return n;
            }
        }

        @Override
        public void truncate(long size) throws IOException {
            synchronized (FakeJournalFiles.this) {
                open();
                if (!writable) {
                    throw new NonWritableChannelException();
                }
                if (size < node.size) {
                    node.size = (int) size;
                }
            }
        }

        @Override
        public void force() throws IOException {
            Runnable hook;
            synchronized (FakeJournalFiles.this) {
                open();
                if (forceFailure != null) {
                    throw forceFailure;
                }
                forces++;
                node.durable = Arrays.copyOf(node.data, node.size);
                hook = onForce;
            }
            hook.run();
        }

        @Override
        public void close() {
            synchronized (FakeJournalFiles.this) {
                closed = true;
            }
        }

        private void open() throws ClosedChannelException {
            if (closed) {
                throw new ClosedChannelException();
            }
        }
    }
}
