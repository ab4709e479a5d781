package io.gpuagent.market.tls;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * SHA-256 certificate fingerprints: the digest of the certificate's DER bytes, as
 * {@code openssl x509 -noout -fingerprint -sha256} computes it. Shown as upper-case hex pairs
 * joined by colons (openssl's form, which {@code market.tls_pins} accepts as is); compared in a
 * canonical form, lower-case hex without colons.
 */
public final class Fingerprints {
    private static final Pattern PIN = Pattern.compile("([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}");

    private Fingerprints() {
    }

    /** The fingerprint in openssl's form: {@code AB:CD:...} (95 characters). */
    public static String sha256(X509Certificate cert) {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest(cert));
    }

    /** The fingerprint in canonical form: 64 lower-case hex digits. */
    static String canonicalSha256(X509Certificate cert) {
        return HexFormat.of().formatHex(digest(cert));
    }

    /**
     * A configured pin in canonical form.
     *
     * @throws IllegalArgumentException when it is not 32 bytes of hex (colons allowed)
     */
    public static String canonical(String pin) {
        String p = pin.strip();
        if (!PIN.matcher(p).matches()) {
            throw new IllegalArgumentException("not a SHA-256 fingerprint (64 hex digits, colons allowed): " + pin);
        }
        return p.replace(":", "").toLowerCase(Locale.ROOT);
    }

    private static byte[] digest(X509Certificate cert) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("certificate cannot be encoded: " + e.getMessage(), e);
        }
    }
}
