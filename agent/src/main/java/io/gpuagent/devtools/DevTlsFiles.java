package io.gpuagent.devtools;

import io.gpuagent.util.OwnerOnlyFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The files {@code gpu-agent tls init} writes into one directory (created with mode 0700, by
 * default {@code <agent.state_dir>/tls}):
 * <pre>
 * ca.pem              the development CA's certificate            0600  tls_ca on both sides
 * ca-key.pem          its private key (PKCS#8)                    0600  keep private; only to issue more
 * agent.pem           the agent's certificate, then the CA's      0600  tls_cert of the agent
 * agent-key.pem       the agent's private key (PKCS#8)            0600  tls_key of the agent
 * scheduler.pem       the scheduler's certificate, then the CA's  0600  the scheduler's certificate
 * scheduler-key.pem   the scheduler's private key (PKCS#8)        0600  the scheduler's key
 * </pre>
 * All six are owner-only ({@link OwnerOnlyFiles}), certificates too: they are not secret, but
 * everything under the state directory is private to the agent's user, and the agent would narrow
 * them at its next start anyway; {@code chmod 644} one to hand it out. Each file is written to a
 * temporary name with its final mode, then renamed, so a reader never sees half a file or a key
 * with a loose mode. Nothing is written when any of the six exists and
 * overwriting was not asked for.
 */
public final class DevTlsFiles {
    public static final String CA = "ca.pem";
    public static final String CA_KEY = "ca-key.pem";
    public static final String AGENT = "agent.pem";
    public static final String AGENT_KEY = "agent-key.pem";
    public static final String SCHEDULER = "scheduler.pem";
    public static final String SCHEDULER_KEY = "scheduler-key.pem";
    public static final List<String> ALL = List.of(CA, CA_KEY, AGENT, AGENT_KEY, SCHEDULER, SCHEDULER_KEY);

    private DevTlsFiles() {
    }

    /** Which of the six files already exist in {@code dir}. */
    public static List<Path> existing(Path dir) {
        List<Path> found = new ArrayList<>();
        for (String name : ALL) {
            Path p = dir.resolve(name);
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                found.add(p);
            }
        }
        return found;
    }

    /**
     * Writes the six files.
     *
     * @param overwrite replace files that exist; when false and any exists, nothing is written
     * @throws FileAlreadyExistsException naming the first file that exists, when not overwriting
     */
    public static void write(Path dir, DevCertificateAuthority ca, DevCertificateAuthority.Issued agent,
                             DevCertificateAuthority.Issued scheduler, boolean overwrite) throws IOException {
        List<Path> present = existing(dir);
        if (!overwrite && !present.isEmpty()) {
            throw new FileAlreadyExistsException(present.get(0).toString(), null,
                    present.size() + " of the TLS files exist already");
        }
        if (!Files.isDirectory(dir)) {
            OwnerOnlyFiles.createDirectories(dir);
        }
        // an existing directory keeps its mode (--dir . must not chmod the owner's working directory):
        // the keys in it are 0600 whatever the directory's mode
        try {
            writeAtomically(dir.resolve(CA_KEY), key(ca.key()));
            writeAtomically(dir.resolve(AGENT_KEY), key(agent.key()));
            writeAtomically(dir.resolve(SCHEDULER_KEY), key(scheduler.key()));
            writeAtomically(dir.resolve(CA), certificates(ca.certificate()));
            writeAtomically(dir.resolve(AGENT), certificates(agent.certificate(), ca.certificate()));
            writeAtomically(dir.resolve(SCHEDULER), certificates(scheduler.certificate(), ca.certificate()));
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a certificate this process just built cannot be encoded", e);
        }
    }

    /** PEM of the certificates, in order (a chain: leaf first). */
    public static String certificates(X509Certificate... chain) throws CertificateEncodingException {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : chain) {
            sb.append(pem("CERTIFICATE", c.getEncoded()));
        }
        return sb.toString();
    }

    /** PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----}) of a JDK private key. */
    public static String key(PrivateKey key) {
        if (!"PKCS#8".equals(key.getFormat())) {
            throw new IllegalArgumentException("not a PKCS#8 key: " + key.getFormat());
        }
        return pem("PRIVATE KEY", key.getEncoded());
    }

    /** One PEM block (RFC 7468): base64 in lines of 64, as openssl writes it. */
    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    private static void writeAtomically(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        // created with its final mode: a key is never readable by others, not even for a moment
        OwnerOnlyFiles.writeNew(tmp, text.getBytes(StandardCharsets.US_ASCII));
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
