package io.gpuagent.escrow.web3j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.escrow.WalletException;
import io.gpuagent.util.OwnerOnlyFiles;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Wallet;
import org.web3j.crypto.WalletFile;
import org.web3j.crypto.exception.CipherException;
import org.web3j.utils.Numeric;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The wallet's encrypted keystore: Ethereum's Web3 Secret Storage (version 3), scrypt (n = 2^18,
 * r = 8, p = 1: about two seconds and 256 MiB to open, once at start, outside the heap:
 * {@link OffHeapScrypt}) and AES-128-CTR. Files are
 * written mode 0600 in a 0700 directory, atomically, and never overwritten. The "light" scrypt
 * (n = 2^12) is for tests only.
 */
public final class Keystore {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Keystore() {
    }

    /** {@code <state_dir>/wallet/keystore.json} unless {@code escrow.keystore} names another file. */
    public static Path path(String configured, Path stateDir) {
        return configured.isEmpty() ? stateDir.resolve("wallet").resolve("keystore.json") : Path.of(configured);
    }

    /** Creates a keystore with a new random key; returns its address (checksummed). */
    public static String create(Path file, String password, boolean lightKdf) throws WalletException {
        try {
            return write(file, Keys.createEcKeyPair(), password, lightKdf);
        } catch (java.security.GeneralSecurityException e) {
            throw new WalletException("cannot generate a key: " + e.getMessage(), e);
        }
    }

    /** Creates a keystore holding {@code privateKeyHex} (64 hex digits, 0x optional); returns its address. */
    public static String importKey(Path file, String privateKeyHex, String password, boolean lightKdf) throws WalletException {
        String hex = privateKeyHex.strip();
        if (!hex.matches("(0x)?[0-9a-fA-F]{64}")) {
            throw new WalletException("a private key is 64 hex digits (0x optional) on one line");
        }
        BigInteger k = Numeric.toBigInt(hex);
        if (k.signum() == 0 || k.compareTo(org.web3j.crypto.Sign.CURVE_PARAMS.getN()) >= 0) {
            throw new WalletException("not a valid secp256k1 private key (zero, or not below the curve order)");
        }
        return write(file, ECKeyPair.create(k), password, lightKdf);
    }

    private static String write(Path file, ECKeyPair key, String password, boolean lightKdf) throws WalletException {
        if (Files.exists(file)) {
            throw new WalletException("keystore " + file + " already exists; refusing to overwrite a wallet (move it away first"
                    + " if you really mean to replace it: its funds stay with its key)");
        }
        try {
            WalletFile w = lightKdf ? Wallet.createLight(password, key) : Wallet.createStandard(password, key);
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                OwnerOnlyFiles.createDirectories(dir);
            }
            Path tmp = OwnerOnlyFiles.createTempFile(dir, ".keystore", ".tmp");
            try {
                Files.write(tmp, JSON.writeValueAsBytes(w));
                try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return Keys.toChecksumAddress(w.getAddress());
        } catch (FileAlreadyExistsException e) {
            throw new WalletException("keystore " + file + " already exists; refusing to overwrite a wallet");
        } catch (CipherException | IOException e) {
            throw new WalletException("cannot write keystore " + file + ": " + e.getMessage(), e);
        }
    }

    /** The keystore's address, read from its JSON without decrypting (checksummed). */
    public static String address(Path file) throws WalletException {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            String a = n.path("address").asText("");
            if (!a.matches("(0x)?[0-9a-fA-F]{40}")) {
                throw new WalletException("keystore " + file + " has no address field (not a V3 keystore?)");
            }
            return Keys.toChecksumAddress(a);
        } catch (IOException e) {
            throw new WalletException(Files.exists(file) ? "cannot read keystore " + file + ": " + e.getMessage()
                    : "no keystore at " + file + "; create one with `gpu-agent wallet new`", e);
        }
    }

    /** Decrypts the keystore: once, at start. */
    public static Credentials load(Path file, String password) throws WalletException {
        WalletFile w;
        try {
            w = JSON.readValue(file.toFile(), WalletFile.class);
        } catch (IOException e) {
            throw new WalletException(Files.exists(file) ? "keystore " + file + " is not a V3 keystore: " + e.getMessage()
                    : "no keystore at " + file + "; create one with `gpu-agent wallet new` (or set escrow.keystore)", e);
        }
        try {
            return Credentials.create(decrypt(password, w));
        } catch (CipherException e) {
            throw new WalletException("cannot open keystore " + file + ": wrong password, or the file is damaged ("
                    + e.getMessage() + ")", e);
        }
    }

    /**
     * web3j's {@code Wallet.decrypt}, but a scrypt keystore's key is derived by
     * {@link OffHeapScrypt} (its 256 MiB outside the 64 MiB heap); other KDFs (PBKDF2) go to web3j.
     * Same checks and messages: version 3, AES-128-CTR, the MAC (Keccak-256 of the key's second
     * half and the ciphertext) before anything is decrypted.
     */
    static ECKeyPair decrypt(String password, WalletFile w) throws CipherException {
        WalletFile.Crypto crypto = w.getCrypto();
        if (crypto == null || !(crypto.getKdfparams() instanceof WalletFile.ScryptKdfParams params)) {
            return Wallet.decrypt(password, w);
        }
        if (w.getVersion() != 3) {
            throw new CipherException("Wallet version is not supported");
        }
        if (!"aes-128-ctr".equals(crypto.getCipher())) {
            throw new CipherException("Wallet cipher is not supported");
        }
        byte[] derived;
        try {
            derived = OffHeapScrypt.derive(password.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    Numeric.hexStringToByteArray(params.getSalt()), params.getN(), params.getR(),
                    params.getP(), params.getDklen());
        } catch (IllegalArgumentException e) {
            throw new CipherException("the keystore's scrypt parameters are unusable: " + e.getMessage());
        }
        if (derived.length < 32) {
            throw new CipherException("the keystore's scrypt dklen is " + derived.length + ", at least 32 are needed");
        }
        try {
            byte[] cipherText = Numeric.hexStringToByteArray(crypto.getCiphertext());
            byte[] macInput = new byte[16 + cipherText.length];
            System.arraycopy(derived, 16, macInput, 0, 16);
            System.arraycopy(cipherText, 0, macInput, 16, cipherText.length);
            byte[] mac = Numeric.hexStringToByteArray(crypto.getMac());
            if (!java.security.MessageDigest.isEqual(org.web3j.crypto.Hash.sha3(macInput), mac)) {
                throw new CipherException("Invalid password provided");
            }
            byte[] iv = Numeric.hexStringToByteArray(crypto.getCipherparams().getIv());
            javax.crypto.Cipher aes = javax.crypto.Cipher.getInstance("AES/CTR/NoPadding");
            aes.init(javax.crypto.Cipher.DECRYPT_MODE, new javax.crypto.spec.SecretKeySpec(derived, 0, 16, "AES"),
                    new javax.crypto.spec.IvParameterSpec(iv));
            byte[] key = aes.doFinal(cipherText);
            try {
                return ECKeyPair.create(key);
            } finally {
                java.util.Arrays.fill(key, (byte) 0);
            }
        } catch (java.security.GeneralSecurityException | IllegalArgumentException e) {
            throw new CipherException("cannot decrypt the key: " + e.getMessage());
        } finally {
            java.util.Arrays.fill(derived, (byte) 0);
        }
    }
}
