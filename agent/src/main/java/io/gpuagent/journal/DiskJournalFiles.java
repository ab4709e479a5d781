package io.gpuagent.journal;

import io.gpuagent.util.OwnerOnlyFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal directory on a real filesystem, through {@link FileChannel}. The directory (and any
 * missing parent) is created 0700 and segments 0600 ({@link OwnerOnlyFiles}), whatever the umask.
 */
public final class DiskJournalFiles implements JournalFiles {
    private final Path dir;

    private DiskJournalFiles(Path dir) {
        this.dir = dir;
    }

    /**
     * The journal directory {@code dir}.
     *
     * @param create create it, mode 0700 (and make its entry in the parent durable), when it is missing
     * @throws NoSuchFileException when it is missing and {@code create} is false
     */
    public static DiskJournalFiles open(Path dir, boolean create) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (!Files.isDirectory(abs)) {
            if (!create) {
                throw new NoSuchFileException(abs.toString(), null, "no journal directory here");
            }
            OwnerOnlyFiles.createDirectories(abs);
            if (abs.getParent() != null) {
                fsyncDirectory(abs.getParent());
            }
        }
        return new DiskJournalFiles(abs);
    }

    /** The directory. */
    public Path directory() {
        return dir;
    }

    @Override
    public List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isRegularFile)) {
            for (Path p : s) {
                names.add(p.getFileName().toString());
            }
        }
        return names;
    }

    @Override
    public SegmentFile create(String name) throws IOException {
        return new Disk(OwnerOnlyFiles.open(dir.resolve(name), StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE));
    }

    @Override
    public SegmentFile open(String name, boolean writable) throws IOException {
        Path p = dir.resolve(name);
        return new Disk(writable ? FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(p, StandardOpenOption.READ));
    }

    @Override
    public void delete(String name) throws IOException {
        Files.delete(dir.resolve(name));
    }

    @Override
    public void syncDirectory() throws IOException {
        fsyncDirectory(dir);
    }

    @Override
    public String describe(String name) {
        return dir.resolve(name).toString();
    }

    @Override
    public String toString() {
        return "DiskJournalFiles[" + dir + "]";
    }

    private static void fsyncDirectory(Path d) throws IOException {
        // Linux lets a directory be opened read-only and fsync'ed; that makes entries durable
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private record Disk(FileChannel ch) implements SegmentFile {
        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return ch.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return ch.write(src, position);
        }

        @Override
        public void truncate(long size) throws IOException {
            ch.truncate(size);
        }

        @Override
        public void force() throws IOException {
            ch.force(false);
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
