package io.gpuagent.escrow;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class WalletPasswordTest {
    @TempDir
    Path dir;

    Path file(String content, String perms) throws Exception {
        Path f = dir.resolve("pw");
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(perms));
        return f;
    }

    @Test
    void aFileOnlyItsOwnerCanReadGivesThePasswordWithoutItsNewline() throws Exception {
        assertThat(WalletPassword.readFile(file("s3cret\n", "rw-------"))).isEqualTo("s3cret");
        assertThat(WalletPassword.readFile(file("s3cret\r\n", "r--------"))).isEqualTo("s3cret");
        assertThat(WalletPassword.readFile(file("two words ", "r--------"))).isEqualTo("two words ");
    }

    @Test
    void aFileOthersCanReadIsRefusedWithItsModeAndTheChmodThatFixesIt() throws Exception {
        Path f = file("s3cret", "rw-r--r--");
        assertThatThrownBy(() -> WalletPassword.readFile(f)).isInstanceOf(WalletException.class)
                .hasMessage("password file " + f + " has mode 0644: others than its owner may read or run it; fix: chmod 600 " + f);
        Path g = file("s3cret", "rw-rw----");
        assertThatThrownBy(() -> WalletPassword.readFile(g)).hasMessageContaining("mode 0660");
        Path x = file("s3cret", "rwx------");
        assertThatThrownBy(() -> WalletPassword.readFile(x)).hasMessageContaining("mode 0700").hasMessageContaining("chmod 600");
    }

    @Test
    void aFileOfAnotherUserIsRefusedWithTheChown() throws Exception {
        Path f = file("s3cret", "rw-------");
        assumeTrue(WalletPassword.currentUid() == 0, "changing a file's owner needs root");
        Files.setAttribute(f, "unix:uid", 4321);
        assertThatThrownBy(() -> WalletPassword.readFile(f)).hasMessageContaining("owned by uid 4321, not by the agent's user (uid 0)")
                .hasMessageContaining("chown");
    }

    @Test
    void missingEmptyAndLinkedFilesAreRefused() throws Exception {
        assertThatThrownBy(() -> WalletPassword.readFile(dir.resolve("nope"))).hasMessageContaining("does not exist");
        Path empty = file("\n", "rw-------");
        assertThatThrownBy(() -> WalletPassword.readFile(empty)).hasMessageContaining("is empty");
        Path link = Files.createSymbolicLink(dir.resolve("link"), file("s3cret", "rw-------"));
        assertThatThrownBy(() -> WalletPassword.readFile(link)).hasMessageContaining("not a regular file");
    }

    @Test
    void withoutAFileTheSystemdCredentialIsReadAndItsAbsenceSaysHowToConfigureIt() throws Exception {
        Path creds = Files.createDirectory(dir.resolve("creds"));
        Files.writeString(creds.resolve("wallet-password"), "from-systemd\n");
        assertThat(WalletPassword.read("", "wallet-password", Map.of("CREDENTIALS_DIRECTORY", creds.toString())))
                .isEqualTo("from-systemd");
        assertThatThrownBy(() -> WalletPassword.read("", "wallet-password", Map.of()))
                .hasMessageContaining("$CREDENTIALS_DIRECTORY is unset").hasMessageContaining("LoadCredential=wallet-password:");
        assertThatThrownBy(() -> WalletPassword.read("", "other", Map.of("CREDENTIALS_DIRECTORY", creds.toString())))
                .hasMessageContaining("credential " + creds.resolve("other") + " does not exist");
    }
}
