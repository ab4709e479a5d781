package io.gpuagent.escrow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where the keystore password comes from: a file the agent's user alone can read
 * ({@code escrow.password_file}), or the systemd credential {@code escrow.password_credential}
 * ({@code LoadCredential=} puts it in {@code $CREDENTIALS_DIRECTORY}, private to the service).
 * Never the command line or the environment, never a log line. One trailing newline is dropped.
 */
public final class WalletPassword {
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE);

    private WalletPassword() {
    }

    /**
     * The password from {@code passwordFile} when set, else from the credential.
     *
     * @param env the process environment (for {@code CREDENTIALS_DIRECTORY} only)
     */
    public static String read(String passwordFile, String credential, Map<String, String> env) throws WalletException {
        if (!passwordFile.isEmpty()) {
            return readFile(Path.of(passwordFile));
        }
        String dir = env.get("CREDENTIALS_DIRECTORY");
        if (dir == null || dir.isEmpty()) {
            throw new WalletException("no wallet password: escrow.password_file is empty and there is no systemd credential"
                    + " directory ($CREDENTIALS_DIRECTORY is unset). Set escrow.password_file to a file only the agent's"
                    + " user can read (chmod 600), or add LoadCredential=" + credential + ":/etc/gpu-agent/wallet-password"
                    + " to the unit");
        }
        Path f = Path.of(dir, credential);
        if (!Files.isRegularFile(f)) {
            throw new WalletException("no wallet password: the systemd credential " + f + " does not exist; add"
                    + " LoadCredential=" + credential + ":/etc/gpu-agent/wallet-password to the unit, or set"
                    + " escrow.password_file");
        }
        return content(f);
    }

    /**
     * Reads a password file after checking that it is a regular file owned by the current user with
     * mode 0600 or 0400 (no bits for group or others).
     */
    public static String readFile(Path f) throws WalletException {
        try {
            if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                throw new WalletException(Files.exists(f) ? "password file " + f + " is not a regular file (a link or a directory);"
                        + " point escrow.password_file at the file itself" : "password file " + f + " does not exist");
            }
            int owner = (Integer) Files.getAttribute(f, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int me = currentUid();
            if (owner != me) {
                throw new WalletException("password file " + f + " is owned by uid " + owner + ", not by the agent's user (uid "
                        + me + "); fix: chown $(id -un) " + f + " (as root), or use the systemd credential instead");
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS);
            if (!OWNER_ONLY.containsAll(perms)) {
                throw new WalletException("password file " + f + " has mode " + mode(perms) + ": others than its owner may read"
                        + " or run it; fix: chmod 600 " + f);
            }
            if (!perms.contains(PosixFilePermission.OWNER_READ)) {
                throw new WalletException("password file " + f + " has mode " + mode(perms) + " and cannot be read; fix: chmod 600 " + f);
            }
            return content(f);
        } catch (NoSuchFileException e) {
            throw new WalletException("password file " + f + " does not exist");
        } catch (IOException e) {
            throw new WalletException("cannot read password file " + f + ": " + e.getMessage(), e);
        }
    }

    private static String content(Path f) throws WalletException {
        String s;
        try {
            s = Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new WalletException("cannot read the wallet password from " + f + ": " + e.getMessage(), e);
        }
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
            if (s.endsWith("\r")) {
                s = s.substring(0, s.length() - 1);
            }
        }
        if (s.isEmpty()) {
            throw new WalletException("the wallet password in " + f + " is empty");
        }
        return s;
    }

    /** The process's user id: the owner of /proc/self. */
    static int currentUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** Octal mode, e.g. "0644". */
    public static String mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) {
            m |= 1 << (8 - p.ordinal());
        }
        return String.format("0%03o", m);
    }
}
