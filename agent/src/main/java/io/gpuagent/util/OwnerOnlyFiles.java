package io.gpuagent.util;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Files and directories that only the agent's user can use: directories 0700, files 0600, whatever
 * the umask the agent was started with. Everything the agent keeps under {@code agent.state_dir}
 * (journal, escrow store, wallet, control socket, development TLS files) is made through here.
 *
 * <p>Modes are given as an attribute at creation ({@code open(2)} / {@code mkdir(2)} with that
 * mode), so there is no moment at which a new file is looser. The umask still masks the attribute's
 * bits, but it can only remove bits, so 0600 and 0700 come out 0600 and 0700 under any usual umask
 * (022, 027, 077). Paths an older agent (or another tool) left looser are narrowed by
 * {@link #tighten(Path)}, which the daemon runs on the state directory at start.
 */
public final class OwnerOnlyFiles {
    /** {@code rwx------}: a directory only its owner can list, enter or change. */
    public static final Set<PosixFilePermission> DIRECTORY_MODE = PosixFilePermissions.fromString("rwx------");
    /** {@code rw-------}: a file only its owner can read or write. */
    public static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private OwnerOnlyFiles() {
    }

    /** The attribute that creates a directory 0700. */
    public static FileAttribute<Set<PosixFilePermission>> directoryAttribute() {
        return PosixFilePermissions.asFileAttribute(DIRECTORY_MODE);
    }

    /** The attribute that creates a file 0600. */
    public static FileAttribute<Set<PosixFilePermission>> fileAttribute() {
        return PosixFilePermissions.asFileAttribute(FILE_MODE);
    }

    /**
     * {@link Files#createDirectories} where every directory it creates (missing parents included)
     * is 0700. Directories that exist already are left as they are: {@link #tighten} narrows those.
     *
     * @return {@code dir}
     */
    public static Path createDirectories(Path dir) throws IOException {
        return Files.createDirectories(dir, directoryAttribute());
    }

    /** {@link FileChannel#open} where a file it creates ({@code CREATE}, {@code CREATE_NEW}) is 0600. */
    public static FileChannel open(Path file, OpenOption... options) throws IOException {
        return FileChannel.open(file, Set.of(options), fileAttribute());
    }

    /** {@link Files#createFile} with mode 0600. */
    public static Path createFile(Path file) throws IOException {
        return Files.createFile(file, fileAttribute());
    }

    /** {@link Files#createTempFile(Path, String, String, FileAttribute[])} with mode 0600. */
    public static Path createTempFile(Path dir, String prefix, String suffix) throws IOException {
        return Files.createTempFile(dir, prefix, suffix, fileAttribute());
    }

    /** A new file (it must not exist) holding {@code bytes}, mode 0600 from its first byte on. */
    public static Path writeNew(Path file, byte[] bytes) throws IOException {
        createFile(file);
        Files.write(file, bytes);
        return file;
    }

    /** A path whose mode {@link #tighten} narrowed. */
    public record Tightened(Path path, Set<PosixFilePermission> before, Set<PosixFilePermission> after) {
        /** {@code /var/lib/gpu-agent/journal 0755 -> 0700}. */
        @Override
        public String toString() {
            return path + " " + octal(before) + " -> " + octal(after);
        }
    }

    /**
     * Removes every group and others bit from {@code root} and everything below it, and returns what
     * it changed (nothing when all is private already). The owner's bits are left as they are (a
     * read-only 0400 file stays read-only). Symbolic links below the root are neither followed nor
     * changed; the root itself may be one (a state directory moved to another disk).
     *
     * @throws ForeignOwnerException when a path that needs narrowing belongs to another user, so
     *                               this process may not change its mode (the message says the fix)
     * @throws IOException           when the tree cannot be read
     */
    public static List<Tightened> tighten(Path root) throws IOException {
        List<Tightened> changed = new ArrayList<>();
        Path real = root.toRealPath();
        Files.walkFileTree(real, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                narrow(dir, changed);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!attrs.isSymbolicLink()) {
                    narrow(file, changed); // regular files, and sockets such as a stale control.sock
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return changed;
    }

    private static void narrow(Path p, List<Tightened> changed) throws IOException {
        Set<PosixFilePermission> before = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> after = EnumSet.noneOf(PosixFilePermission.class);
        after.addAll(before);
        after.removeAll(GROUP_OR_OTHERS);
        if (after.size() == before.size()) {
            return;
        }
        try {
            Files.setPosixFilePermissions(p, after);
        } catch (FileSystemException e) {
            String owner = Files.getOwner(p, LinkOption.NOFOLLOW_LINKS).getName();
            throw new ForeignOwnerException(p, before, owner, System.getProperty("user.name"), e);
        }
        changed.add(new Tightened(p, before, after));
    }

    /** {@code 0755} for {@code rwxr-xr-x}. */
    public static String octal(Set<PosixFilePermission> perms) {
        int mode = 0;
        for (PosixFilePermission p : perms) {
            mode |= 1 << (8 - p.ordinal()); // the enum runs OWNER_READ ... OTHERS_EXECUTE, high bit first
        }
        return String.format("%04o", mode);
    }

    /**
     * A path under the state directory is readable by others and belongs to another user, so the
     * agent cannot make it private: the owner must change its owner or its mode.
     */
    public static final class ForeignOwnerException extends IOException {
        private final transient Path path;

        ForeignOwnerException(Path path, Set<PosixFilePermission> mode, String owner, String user, IOException cause) {
            super(path + " is mode " + octal(mode) + " and owned by " + owner + ", not by " + user
                    + " (the agent's user), so the agent cannot make it private (0700 directories, 0600 files): run `sudo chown -R "
                    + user + " " + path + "` (everything under the state directory must belong to the agent's user; "
                    + cause.getMessage() + ")", cause);
            this.path = path;
        }

        /** The path that could not be narrowed. */
        public Path path() {
            return path;
        }
    }
}
