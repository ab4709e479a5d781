package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.WalletException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.Credentials;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Keystores with the light scrypt (tests only); the standard one is the same code with n = 2^18. */
class KeystoreTest {
    @TempDir
    Path dir;

    @Test
    void aNewKeystoreIsPrivateItsAddressReadsWithoutThePasswordAndItOpensWithIt() throws Exception {
        Path ks = dir.resolve("wallet/keystore.json");
        String address = Keystore.create(ks, "pw", true);
        assertThat(address).matches("0x[0-9a-fA-F]{40}");
        assertThat(Files.getPosixFilePermissions(ks)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(ks.getParent())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Keystore.address(ks)).isEqualTo(address);
        Credentials c = Keystore.load(ks, "pw");
        assertThat(new WalletSigner(c).address()).isEqualTo(address);
        assertThat(new WalletSigner(c).toString()).doesNotContain(c.getEcKeyPair().getPrivateKey().toString(16));
        assertThatThrownBy(() -> Keystore.load(ks, "wrong")).isInstanceOf(WalletException.class).hasMessageContaining("wrong password");
        assertThatThrownBy(() -> Keystore.create(ks, "pw", true)).hasMessageContaining("refusing to overwrite");
        assertThat(Keystore.address(ks)).isEqualTo(address);
        try (var s = Files.list(ks.getParent())) {
            assertThat(s).containsExactly(ks); // no temp file left behind
        }
    }

    @Test
    void anImportedKeyKeepsItsAddress() throws Exception {
        Path ks = dir.resolve("k.json");
        assertThat(Keystore.importKey(ks, "0x" + "11".repeat(32) + "\n", "pw", true))
                .isEqualTo(VoucherTypedDataTest.ADDRESS);
        assertThat(Keystore.load(ks, "pw").getAddress()).isEqualToIgnoringCase(VoucherTypedDataTest.ADDRESS);
        assertThatThrownBy(() -> Keystore.importKey(dir.resolve("z.json"), "0x" + "00".repeat(32), "pw", true))
                .hasMessageContaining("not a valid secp256k1 private key");
        assertThatThrownBy(() -> Keystore.importKey(dir.resolve("z.json"), "xyz", "pw", true))
                .hasMessageContaining("64 hex digits");
    }

    @Test
    void aMissingKeystoreSaysHowToCreateOne() {
        assertThatThrownBy(() -> Keystore.load(dir.resolve("none.json"), "pw")).hasMessageContaining("gpu-agent wallet new");
        assertThatThrownBy(() -> Keystore.address(dir.resolve("none.json"))).hasMessageContaining("gpu-agent wallet new");
    }

    @Test
    void theOffHeapDecryptionGivesWeb3jsKeyAndRefusesWhatWeb3jRefuses() throws Exception {
        Path ks = dir.resolve("k.json");
        Keystore.importKey(ks, "0x" + "11".repeat(32), "pw", true);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        org.web3j.crypto.WalletFile w = json.readValue(ks.toFile(), org.web3j.crypto.WalletFile.class);
        assertThat(Keystore.decrypt("pw", w).getPrivateKey())
                .isEqualTo(org.web3j.crypto.Wallet.decrypt("pw", w).getPrivateKey());
        String before = Files.readString(ks);

        assertThatThrownBy(() -> Keystore.decrypt("not it", w)).isInstanceOf(
                org.web3j.crypto.exception.CipherException.class).hasMessageContaining("Invalid password");
        // another valid hex digit in the MAC's first place (a non-hex one would parse to the same byte for an 'f')
        int at = before.indexOf("\"mac\":\"") + "\"mac\":\"".length();
        char flipped = before.charAt(at) == '0' ? '1' : '0';
        org.web3j.crypto.WalletFile badMac = json.readValue(before.substring(0, at) + flipped + before.substring(at + 1),
                org.web3j.crypto.WalletFile.class);
        assertThatThrownBy(() -> Keystore.decrypt("pw", badMac)).hasMessageContaining("Invalid password");
        org.web3j.crypto.WalletFile otherCipher = json.readValue(before.replace("aes-128-ctr", "aes-256-gcm"),
                org.web3j.crypto.WalletFile.class);
        assertThatThrownBy(() -> Keystore.decrypt("pw", otherCipher)).hasMessageContaining("cipher is not supported");
        org.web3j.crypto.WalletFile badN = json.readValue(before.replaceFirst("\"n\":4096", "\"n\":4000"),
                org.web3j.crypto.WalletFile.class);
        assertThatThrownBy(() -> Keystore.decrypt("pw", badN)).hasMessageContaining("scrypt").hasMessageContaining("4000");
        assertThatThrownBy(() -> Keystore.load(dir.resolve("k.json"), "not it")).isInstanceOf(WalletException.class)
                .hasMessageContaining("wrong password");
        assertThat(Files.readString(ks)).as("the keystore is untouched").isEqualTo(before);
    }
}
