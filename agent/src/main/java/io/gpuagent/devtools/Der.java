package io.gpuagent.devtools;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.Instant;

/**
 * A minimal ASN.1 DER encoder: just the types an X.509 v3 certificate needs (ITU-T X.690, section
 * 10). Each method returns one complete TLV (tag, length, value); constructed types take their
 * already-encoded children. There is no decoder: certificates are read back with the JDK's
 * {@code CertificateFactory}, which is what verifies that this encoder is right.
 */
final class Der {
    static final int BOOLEAN = 0x01;
    static final int INTEGER = 0x02;
    static final int BIT_STRING = 0x03;
    static final int OCTET_STRING = 0x04;
    static final int NULL = 0x05;
    static final int OID = 0x06;
    static final int UTF8_STRING = 0x0c;
    static final int PRINTABLE_STRING = 0x13;
    static final int IA5_STRING = 0x16;
    static final int UTC_TIME = 0x17;
    static final int GENERALIZED_TIME = 0x18;
    static final int SEQUENCE = 0x30;
    static final int SET = 0x31;

    private static final DateTimeFormatter UTC_TIME_FORMAT = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'");
    private static final DateTimeFormatter GENERALIZED_TIME_FORMAT = DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'");

    private Der() {
    }

    /** One TLV with a primitive or constructed tag and the given contents. */
    static byte[] tlv(int tag, byte[] contents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(contents.length + 6);
        out.write(tag);
        writeLength(out, contents.length);
        out.writeBytes(contents);
        return out.toByteArray();
    }

    /** Definite length: short form below 128, else 0x80 | number of length bytes, then the bytes big-endian. */
    private static void writeLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
            return;
        }
        int bytes = (32 - Integer.numberOfLeadingZeros(length) + 7) / 8;
        out.write(0x80 | bytes);
        for (int i = bytes - 1; i >= 0; i--) {
            out.write(length >>> (8 * i));
        }
    }

    static byte[] sequence(byte[]... children) {
        return tlv(SEQUENCE, concat(children));
    }

    /** A SET OF: DER sorts the encoded elements; every caller here passes one element. */
    static byte[] set(byte[] onlyChild) {
        return tlv(SET, onlyChild);
    }

    static byte[] integer(BigInteger value) {
        return tlv(INTEGER, value.toByteArray()); // two's complement, minimal: what DER requires
    }

    static byte[] integer(long value) {
        return integer(BigInteger.valueOf(value));
    }

    static byte[] bool(boolean value) {
        return tlv(BOOLEAN, new byte[] {(byte) (value ? 0xff : 0x00)});
    }

    static byte[] nullValue() {
        return tlv(NULL, new byte[0]);
    }

    static byte[] octetString(byte[] value) {
        return tlv(OCTET_STRING, value);
    }

    /** A BIT STRING of whole bytes (keys, signatures): zero unused bits. */
    static byte[] bitString(byte[] value) {
        byte[] contents = new byte[value.length + 1];
        System.arraycopy(value, 0, contents, 1, value.length);
        return tlv(BIT_STRING, contents);
    }

    /**
     * A named-bit BIT STRING (keyUsage): bit 0 is the most significant bit of the first byte, and
     * DER drops trailing zero bits, counting them as unused.
     */
    static byte[] namedBits(int... bits) {
        int highest = -1;
        for (int b : bits) {
            highest = Math.max(highest, b);
        }
        if (highest < 0) {
            return tlv(BIT_STRING, new byte[] {0});
        }
        byte[] contents = new byte[1 + highest / 8 + 1];
        for (int b : bits) {
            contents[1 + b / 8] |= (byte) (0x80 >>> (b % 8));
        }
        contents[0] = (byte) (7 - highest % 8);
        return tlv(BIT_STRING, contents);
    }

    /** An OBJECT IDENTIFIER from its dotted form: the first two arcs as 40a+b, then base-128 arcs. */
    static byte[] oid(String dotted) {
        String[] arcs = dotted.split("\\.");
        if (arcs.length < 2) {
            throw new IllegalArgumentException("an OID has at least two arcs: " + dotted);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeBase128(out, new BigInteger(arcs[0]).multiply(BigInteger.valueOf(40)).add(new BigInteger(arcs[1])));
        for (int i = 2; i < arcs.length; i++) {
            writeBase128(out, new BigInteger(arcs[i]));
        }
        return tlv(OID, out.toByteArray());
    }

    private static void writeBase128(ByteArrayOutputStream out, BigInteger arc) {
        int groups = Math.max(1, (arc.bitLength() + 6) / 7);
        for (int g = groups - 1; g >= 0; g--) {
            int septet = arc.shiftRight(7 * g).intValue() & 0x7f;
            out.write(g == 0 ? septet : septet | 0x80);
        }
    }

    static byte[] utf8String(String s) {
        return tlv(UTF8_STRING, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] ia5String(String s) {
        return tlv(IA5_STRING, ascii(s));
    }

    /** The contents of an IA5String; anything outside ASCII is refused rather than mangled. */
    static byte[] ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0x7f) {
                throw new IllegalArgumentException("not ASCII (IA5String): " + s);
            }
        }
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds, always Zulu. */
    static byte[] time(Instant instant) {
        ZonedDateTime t = instant.atZone(ZoneOffset.UTC).withNano(0);
        if (t.getYear() >= 1950 && t.getYear() < 2050) {
            return tlv(UTC_TIME, t.format(UTC_TIME_FORMAT).getBytes(StandardCharsets.US_ASCII));
        }
        return tlv(GENERALIZED_TIME, t.format(GENERALIZED_TIME_FORMAT).getBytes(StandardCharsets.US_ASCII));
    }

    /** [n] EXPLICIT: a constructed context tag wrapping one complete TLV. */
    static byte[] explicit(int tagNumber, byte[] inner) {
        return tlv(0xa0 | tagNumber, inner);
    }

    /** [n] IMPLICIT on a primitive type: the context tag replaces the type's tag, contents unchanged. */
    static byte[] implicitPrimitive(int tagNumber, byte[] contents) {
        return tlv(0x80 | tagNumber, contents);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
