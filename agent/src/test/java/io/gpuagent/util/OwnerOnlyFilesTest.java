package io.gpuagent.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The owner-only modes whatever the umask (the test JVM's is the usual 022, under which plain
 * {@link Files} calls give 0755 and 0644: the bug of issue 16, item 6), and the narrowing of what
 * an older agent left readable.
 */
class OwnerOnlyFilesTest {
    @TempDir
    Path dir;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void directoriesAndMissingParentsAreCreated0700() throws Exception {
        Path deep = dir.resolve("a/b/c");
        assertThat(OwnerOnlyFiles.createDirectories(deep)).isEqualTo(deep);
        assertThat(mode(dir.resolve("a"))).isEqualTo("rwx------");
        assertThat(mode(dir.resolve("a/b"))).isEqualTo("rwx------");
        assertThat(mode(deep)).isEqualTo("rwx------");
        OwnerOnlyFiles.createDirectories(deep); // existing: no error, as Files.createDirectories
        Path plain = Files.createDirectories(dir.resolve("plain"));
        assertThat(mode(plain)).as("the umask this test runs under makes plain directories looser")
                .isNotEqualTo("rwx------");
    }

    @Test
    void filesAreCreated0600ByEveryWayTheAgentMakesThem() throws Exception {
        try (FileChannel ch = OwnerOnlyFiles.open(dir.resolve("segment"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
        assertThat(mode(dir.resolve("segment"))).isEqualTo("rw-------");
        assertThat(mode(OwnerOnlyFiles.createFile(dir.resolve("empty")))).isEqualTo("rw-------");
        assertThat(mode(OwnerOnlyFiles.createTempFile(dir, ".x", ".tmp"))).isEqualTo("rw-------");
        Path written = OwnerOnlyFiles.writeNew(dir.resolve("secret"), "pw\n".getBytes());
        assertThat(mode(written)).isEqualTo("rw-------");
        assertThat(Files.readString(written)).isEqualTo("pw\n");
        // opening an existing file never changes its mode (the attribute applies at creation only)
        Path loose = Files.writeString(dir.resolve("loose"), "x");
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        OwnerOnlyFiles.open(loose, StandardOpenOption.READ).close();
        assertThat(mode(loose)).isEqualTo("rw-r--r--");
    }

    @Test
    void tightenRemovesGroupAndOthersBitsFromTheWholeTreeAndSaysWhatItChanged() throws Exception {
        Path state = Files.createDirectories(dir.resolve("state"));
        Path journal = Files.createDirectories(state.resolve("journal"));
        Path segment = Files.writeString(journal.resolve("journal-1.wal"), "x");
        Path keystore = Files.writeString(Files.createDirectories(state.resolve("wallet")).resolve("keystore.json"), "{}");
        Path readOnly = Files.writeString(state.resolve("read-only"), "x");
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(journal, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(segment, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(keystore, PosixFilePermissions.fromString("rw-rw-r--"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r--r--r--"));
        Files.setPosixFilePermissions(state.resolve("wallet"), PosixFilePermissions.fromString("rwx------"));
        // a link to a file outside: neither followed nor changed
        Path outside = Files.writeString(dir.resolve("outside"), "x");
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-r--r--"));
        Files.createSymbolicLink(state.resolve("link"), outside);

        List<OwnerOnlyFiles.Tightened> changed = OwnerOnlyFiles.tighten(state);

        assertThat(changed).extracting(t -> t.path().getFileName().toString())
                .containsExactlyInAnyOrder("state", "journal", "journal-1.wal", "keystore.json", "read-only");
        assertThat(changed).filteredOn(t -> t.path().getFileName().toString().equals("journal"))
                .singleElement().hasToString(journal.toRealPath() + " 0777 -> 0700");
        assertThat(mode(state)).isEqualTo("rwx------");
        assertThat(mode(journal)).isEqualTo("rwx------");
        assertThat(mode(segment)).isEqualTo("rw-------");
        assertThat(mode(keystore)).isEqualTo("rw-------");
        assertThat(mode(readOnly)).as("the owner's bits are kept, never widened").isEqualTo("r--------");
        assertThat(mode(outside)).as("a link's target is not touched").isEqualTo("rw-r--r--");
        assertThat(OwnerOnlyFiles.tighten(state)).as("a second start finds nothing to change").isEmpty();
    }

    @Test
    void aRootThatIsALinkIsFollowed() throws Exception {
        Path real = Files.createDirectories(dir.resolve("disk/state"));
        Files.setPosixFilePermissions(real, PosixFilePermissions.fromString("rwxr-x---"));
        Path link = Files.createSymbolicLink(dir.resolve("state"), real);
        assertThat(OwnerOnlyFiles.tighten(link)).hasSize(1);
        assertThat(mode(real)).isEqualTo("rwx------");
    }

    @Test
    void aPathOfAnotherUserIsAnErrorThatNamesThePathAndTheFix() {
        Path p = dir.resolve("journal");
        var e = new OwnerOnlyFiles.ForeignOwnerException(p, PosixFilePermissions.fromString("rwxr-xr-x"), "root",
                "gpu-agent", new AccessDeniedException(p.toString(), null, "Operation not permitted"));
        assertThat(e.path()).isEqualTo(p);
        assertThat(e).hasMessageContaining(p + " is mode 0755 and owned by root, not by gpu-agent")
                .hasMessageContaining("sudo chown -R gpu-agent " + p);
    }

    @Test
    void octalModes() {
        assertThat(OwnerOnlyFiles.octal(OwnerOnlyFiles.DIRECTORY_MODE)).isEqualTo("0700");
        assertThat(OwnerOnlyFiles.octal(OwnerOnlyFiles.FILE_MODE)).isEqualTo("0600");
        assertThat(OwnerOnlyFiles.octal(PosixFilePermissions.fromString("rwxr-x--x"))).isEqualTo("0751");
        assertThat(OwnerOnlyFiles.octal(PosixFilePermissions.fromString("---------"))).isEqualTo("0000");
    }
}
