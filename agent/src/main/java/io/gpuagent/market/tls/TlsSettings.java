package io.gpuagent.market.tls;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.market.tls.TlsSetupException.Problem;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The TLS material of one side of the scheduler link, loaded and checked: this side's certificate
 * chain and private key, the CA certificates a peer must chain to, the pinned peer fingerprints and
 * the handshake timeout. Immutable once loaded; every problem found while loading is a
 * {@link TlsSetupException} naming the file and the fix.
 *
 * <p>Rules (docs/tls.md):
 * <ul>
 *   <li>the key is PKCS#8 PEM ({@code PRIVATE KEY}), EC or RSA, and must not be readable or writable
 *       by group or others;</li>
 *   <li>the key must be the key of the chain's first certificate (the leaf comes first);</li>
 *   <li>an expired or not-yet-valid own certificate is refused: every peer would refuse it anyway,
 *       and a start-up error names the file where a handshake failure would not; one that expires
 *       within {@link #EXPIRY_WARNING} loads with a warning;</li>
 *   <li>the CA need not be the one that signed this side's own certificate (the two sides may use
 *       different CAs); an expired CA certificate loads with a warning;</li>
 *   <li>at least one of CA and pins.</li>
 * </ul>
 */
public final class TlsSettings {
    /** An own certificate expiring sooner than this loads with a warning. */
    public static final Duration EXPIRY_WARNING = Duration.ofDays(14);

    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final List<X509Certificate> chain;
    private final PrivateKey key;
    private final List<X509Certificate> trustedCas;
    private final Set<String> pins;
    private final long handshakeTimeoutMs;
    private final List<String> warnings;

    private TlsSettings(List<X509Certificate> chain, PrivateKey key, List<X509Certificate> trustedCas, Set<String> pins,
                        long handshakeTimeoutMs, List<String> warnings) {
        this.chain = List.copyOf(chain);
        this.key = key;
        this.trustedCas = List.copyOf(trustedCas);
        this.pins = Set.copyOf(pins);
        this.handshakeTimeoutMs = handshakeTimeoutMs;
        this.warnings = List.copyOf(warnings);
    }

    /** The agent's material from its validated {@code [market]} section, checked against {@code now}. */
    public static TlsSettings fromConfig(AgentConfig.Market market, Instant now) throws TlsSetupException {
        if (market.tlsCert().isEmpty() || market.tlsKey().isEmpty()) {
            throw new TlsSetupException(null, Problem.MISSING, "market.tls_cert and market.tls_key must name this agent's "
                    + "certificate and key (`gpu-agent tls init` makes development ones), or set market.plaintext = true "
                    + "for loopback-only development");
        }
        return load(Path.of(market.tlsCert()), Path.of(market.tlsKey()),
                market.tlsCa().isEmpty() ? null : Path.of(market.tlsCa()), market.tlsPins(),
                market.handshakeTimeoutMs(), now);
    }

    /**
     * Loads and checks one side's material.
     *
     * @param certFile          PEM certificate chain, leaf first
     * @param keyFile           PKCS#8 PEM private key of the leaf
     * @param caFile            PEM CA certificate(s) a peer must chain to; null: pins only
     * @param pins              SHA-256 fingerprints of accepted peer leaves (hex, colons allowed); may be empty
     * @param handshakeTimeoutMs a handshake must finish within this
     * @param now               the wall-clock time validity is checked against
     */
    public static TlsSettings load(Path certFile, Path keyFile, Path caFile, List<String> pins, long handshakeTimeoutMs,
                                   Instant now) throws TlsSetupException {
        List<String> warnings = new ArrayList<>();
        List<X509Certificate> chain = certificates(certFile, "tls_cert");
        PrivateKey key = privateKey(keyFile);
        X509Certificate leaf = chain.get(0);
        requireMatch(keyFile, key, certFile, leaf);
        requireValid(certFile, leaf, now, warnings);
        List<X509Certificate> cas = caFile == null ? List.of() : certificates(caFile, "tls_ca");
        for (X509Certificate ca : cas) {
            if (ca.getNotAfter().toInstant().isBefore(now)) {
                warnings.add("CA certificate " + subject(ca) + " in " + caFile + " expired on " + ca.getNotAfter().toInstant()
                        + ": peers that chain only to it will be refused");
            }
            if (ca.getBasicConstraints() < 0) {
                warnings.add("certificate " + subject(ca) + " in " + caFile + " is not a CA certificate; to accept "
                        + "one peer's certificate, put its fingerprint in tls_pins instead");
            }
        }
        Set<String> canonicalPins = new LinkedHashSet<>();
        for (String p : pins) {
            try {
                canonicalPins.add(Fingerprints.canonical(p));
            } catch (IllegalArgumentException e) {
                throw new TlsSetupException(null, Problem.BAD_PIN, "tls_pins: \"" + p + "\" is not a SHA-256 fingerprint "
                        + "(64 hex digits, colons allowed); get one with `gpu-agent tls fingerprint peer.pem`");
            }
        }
        if (cas.isEmpty() && canonicalPins.isEmpty()) {
            throw new TlsSetupException(null, Problem.NO_TRUST, "neither tls_ca nor tls_pins is set: peers could not be "
                    + "authenticated; set tls_ca to your CA's PEM file or tls_pins to the peers' fingerprints "
                    + "(`gpu-agent tls init` makes a development CA)");
        }
        return new TlsSettings(chain, key, cas, canonicalPins, handshakeTimeoutMs, warnings);
    }

    /** This side's chain, leaf first. */
    public List<X509Certificate> chain() {
        return chain;
    }

    public X509Certificate leaf() {
        return chain.get(0);
    }

    public PrivateKey key() {
        return key;
    }

    /** The CA certificates a peer must chain to; empty: pins only. Never the system trust store. */
    public List<X509Certificate> trustedCas() {
        return trustedCas;
    }

    /** Accepted peer leaf fingerprints, canonical (64 lower-case hex digits); empty: any leaf the CA signed. */
    public Set<String> pins() {
        return pins;
    }

    public long handshakeTimeoutMs() {
        return handshakeTimeoutMs;
    }

    /** Things to log at start that do not stop the agent (a certificate expiring soon, an expired CA). */
    public List<String> warnings() {
        return warnings;
    }

    private static List<X509Certificate> certificates(Path file, String key) throws TlsSetupException {
        String text = readText(file, key);
        List<X509Certificate> certs = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Pem.Block b : Pem.parse(text)) {
                if (b.label().equals(Pem.CERTIFICATE)) {
                    certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
        } catch (IllegalArgumentException | CertificateException e) {
            throw new TlsSetupException(file, Problem.NOT_PEM, key + " " + file + ": a CERTIFICATE block does not decode ("
                    + e.getMessage() + "); check it with `openssl x509 -noout -text -in " + file + "`", e);
        }
        if (certs.isEmpty()) {
            throw new TlsSetupException(file, Problem.NOT_PEM, key + " " + file + ": no -----BEGIN CERTIFICATE----- "
                    + "block; if the file is DER, convert it: `openssl x509 -inform der -in " + file + " -out " + file + ".pem`");
        }
        return certs;
    }

    private static PrivateKey privateKey(Path file) throws TlsSetupException {
        requirePrivate(file);
        String text = readText(file, "tls_key");
        List<Pem.Block> blocks;
        try {
            blocks = Pem.parse(text);
        } catch (IllegalArgumentException e) {
            throw new TlsSetupException(file, Problem.NOT_PEM, "tls_key " + file + ": the PEM block does not decode ("
                    + e.getMessage() + ")", e);
        }
        for (Pem.Block b : blocks) {
            switch (b.label()) {
                case Pem.PRIVATE_KEY:
                    return pkcs8(file, b.der());
                case "EC PRIVATE KEY":
                case "RSA PRIVATE KEY":
                    throw new TlsSetupException(file, Problem.UNSUPPORTED_KEY, "tls_key " + file + " is a " + b.label()
                            + " (SEC1/PKCS#1); the agent reads PKCS#8: `openssl pkcs8 -topk8 -nocrypt -in " + file
                            + " -out " + file + ".pk8` and point tls_key at the new file");
                case "ENCRYPTED PRIVATE KEY":
                    throw new TlsSetupException(file, Problem.UNSUPPORTED_KEY, "tls_key " + file + " is encrypted; the "
                            + "agent has no passphrase to give it: `openssl pkcs8 -in " + file + " -out " + file
                            + ".pk8` (then chmod 600) and point tls_key at the new file");
                default:
                    // another block (a certificate bundled with the key): keep looking
            }
        }
        throw new TlsSetupException(file, Problem.NOT_PEM, "tls_key " + file + ": no -----BEGIN PRIVATE KEY----- block "
                + "(PKCS#8 PEM); `gpu-agent tls init` writes one, `openssl pkcs8 -topk8 -nocrypt` converts others");
    }

    private static PrivateKey pkcs8(Path file, byte[] der) throws TlsSetupException {
        for (String algorithm : new String[] {"EC", "RSA"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new TlsSetupException(file, Problem.UNSUPPORTED_KEY, "tls_key " + file + ": not an EC or RSA PKCS#8 key "
                + "(the agent uses EC P-256 or RSA keys)");
    }

    /** A private key readable by others is as good as published: refuse it before reading it. */
    private static void requirePrivate(Path file) throws TlsSetupException {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view == null) {
            return; // not a POSIX file system: nothing to check against
        }
        Set<PosixFilePermission> perms;
        try {
            perms = view.readAttributes().permissions();
        } catch (NoSuchFileException e) {
            throw missing(file, "tls_key");
        } catch (IOException e) {
            throw new TlsSetupException(file, Problem.UNREADABLE, "tls_key " + file + ": cannot read its attributes: " + e, e);
        }
        Set<PosixFilePermission> loose = EnumSet.copyOf(perms);
        loose.retainAll(GROUP_OR_OTHERS);
        if (!loose.isEmpty()) {
            throw new TlsSetupException(file, Problem.KEY_PERMISSIONS, "tls_key " + file + " has mode "
                    + PosixFilePermissions.toString(perms) + ": a private key must be readable by its owner only; run `chmod 600 "
                    + file + "` (and `chown " + System.getProperty("user.name") + " " + file + "` if the agent's user does not own it)");
        }
    }

    private static String readText(Path file, String key) throws TlsSetupException {
        try {
            // Latin-1 maps every byte: a binary (DER) file reads as text without a PEM block, and
            // is then refused with the conversion command instead of a charset error
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            throw missing(file, key);
        } catch (AccessDeniedException e) {
            throw new TlsSetupException(file, Problem.UNREADABLE, key + " " + file + " is not readable by user "
                    + System.getProperty("user.name") + " (the agent's user): fix its owner or mode", e);
        } catch (IOException e) {
            throw new TlsSetupException(file, Problem.UNREADABLE, key + " " + file + " cannot be read: " + e, e);
        }
    }

    private static TlsSetupException missing(Path file, String key) {
        return new TlsSetupException(file, Problem.MISSING, key + " " + file + " does not exist; create the files with "
                + "`gpu-agent tls init` (development) or install your CA-issued ones there (docs/tls.md)");
    }

    /** Signs a probe with the key and verifies it with the leaf's public key: works for any key type. */
    private static void requireMatch(Path keyFile, PrivateKey key, Path certFile, X509Certificate leaf)
            throws TlsSetupException {
        String algorithm = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
        boolean matches;
        try {
            byte[] probe = "gpu-agent key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(leaf.getPublicKey());
            v.update(probe);
            matches = v.verify(sig);
        } catch (GeneralSecurityException e) {
            matches = false; // a key of another algorithm than the certificate's
        }
        if (!matches) {
            throw new TlsSetupException(keyFile, Problem.KEY_MISMATCH, "tls_key " + keyFile + " is not the private key of "
                    + subject(leaf) + ", the first certificate in tls_cert " + certFile + " (the leaf must come first, "
                    + "then its issuers); compare `openssl pkey -pubout -in " + keyFile + "` with `openssl x509 -pubkey "
                    + "-noout -in " + certFile + "`");
        }
    }

    private static void requireValid(Path certFile, X509Certificate leaf, Instant now, List<String> warnings)
            throws TlsSetupException {
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        if (now.isAfter(notAfter)) {
            throw new TlsSetupException(certFile, Problem.EXPIRED, "tls_cert " + certFile + " (" + subject(leaf)
                    + ") expired on " + notAfter + "; every peer would refuse it: renew it (`gpu-agent tls init --force` "
                    + "for a development CA, else from your CA) and restart the agent");
        }
        if (now.isBefore(notBefore)) {
            throw new TlsSetupException(certFile, Problem.NOT_YET_VALID, "tls_cert " + certFile + " (" + subject(leaf)
                    + ") is valid only from " + notBefore + " and it is " + now + " here: is this machine's clock right "
                    + "(timedatectl)?");
        }
        if (now.plus(EXPIRY_WARNING).isAfter(notAfter)) {
            warnings.add("tls_cert " + certFile + " (" + subject(leaf) + ") expires on " + notAfter
                    + ": renew it before then (docs/tls.md, rotation)");
        }
    }

    /** The certificate's subject as RFC 2253 text, for messages. */
    public static String subject(X509Certificate cert) {
        return cert.getSubjectX500Principal().getName();
    }
}
