package io.gpuagent.escrow.web3j;

import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.security.SignatureException;
import java.util.HexFormat;

/**
 * secp256k1 signatures as the escrow and the scheduler handshake use them: 65 bytes r || s || v,
 * hex with 0x, v in {27, 28}, low s only (the contract's OpenZeppelin ECDSA refuses high s, so the
 * agent does too). Static: the scheduler client can verify a handshake without a wallet.
 */
public final class Signatures {
    private static final BigInteger HALF_N = Sign.CURVE_PARAMS.getN().shiftRight(1);
    private static final HexFormat HEX = HexFormat.of();

    private Signatures() {
    }

    /**
     * Who signed {@code message} with EIP-191 {@code personal_sign} (the handshake challenge).
     *
     * @return the signer's address, EIP-55 checksummed (0x + 40 hex digits, mixed case)
     * @throws SignatureException when {@code sigHex} is not 65 bytes of hex with v 27/28 and low s,
     *                            or recovers no key
     */
    public static String recoverPersonal(byte[] message, String sigHex) throws SignatureException {
        return Keys.toChecksumAddress(recover(Sign.getEthereumMessageHash(message), sigHex));
    }

    /** EIP-191 {@code personal_sign} of {@code message}: 0x + 130 lowercase hex digits. */
    public static String signPersonal(byte[] message, ECKeyPair key) {
        return toHex(Sign.signPrefixedMessage(message, key));
    }

    /** Signs a 32-byte digest as is (EIP-712 digests): 0x + 130 lowercase hex digits. */
    public static String signDigest(byte[] digest, ECKeyPair key) {
        return toHex(Sign.signMessage(digest, key, false));
    }

    /**
     * The address that signed a 32-byte digest, lowercase 0x + 40 hex digits.
     *
     * @throws SignatureException for a malformed or high-s signature, or one that recovers no key
     */
    public static String recover(byte[] digest, String sigHex) throws SignatureException {
        Sign.SignatureData sig = fromHex(sigHex);
        BigInteger key = Sign.signedMessageHashToKey(digest, sig);
        return "0x" + Keys.getAddress(key);
    }

    static Sign.SignatureData fromHex(String sigHex) throws SignatureException {
        if (sigHex == null || !sigHex.matches("0x[0-9a-fA-F]{130}")) {
            throw new SignatureException("a signature is 0x and 130 hex digits (r, s, v), was "
                    + (sigHex == null ? "null" : sigHex.length() + " characters"));
        }
        byte[] b = Numeric.hexStringToByteArray(sigHex);
        byte v = b[64];
        if (v != 27 && v != 28) {
            throw new SignatureException("signature's v must be 27 or 28, was " + (v & 0xff));
        }
        byte[] r = java.util.Arrays.copyOfRange(b, 0, 32);
        byte[] s = java.util.Arrays.copyOfRange(b, 32, 64);
        if (new BigInteger(1, s).compareTo(HALF_N) > 0) {
            throw new SignatureException("signature has a high s (a malleated copy); the escrow contract refuses those");
        }
        return new Sign.SignatureData(v, r, s);
    }

    static String toHex(Sign.SignatureData sig) {
        return "0x" + HEX.formatHex(sig.getR()) + HEX.formatHex(sig.getS()) + HEX.formatHex(sig.getV());
    }
}
