package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.StreamGrant;
import io.gpuagent.escrow.StreamGrantRules;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.security.SignatureException;
import java.util.Locale;

/**
 * EIP-712 hashing of renters' stream grants (docs/streams.md):
 * <pre>
 * domainSeparator = keccak256(abi.encode(
 *     keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
 *     keccak256("gpu-agent"), keccak256("1"), chainId, escrowContract))
 * structHash      = keccak256(abi.encode(
 *     keccak256("StreamGrant(bytes32 rental,string session,address agent,string kinds,uint64 expires,bytes32 nonce)"),
 *     rental, keccak256(session), agent, keccak256(kinds), expires, nonce))
 * digest          = keccak256(0x19 0x01 || domainSeparator || structHash)
 * </pre>
 * The same digest as ethers' {@code TypedDataEncoder.hash} (StreamGrantTypedDataIT signs with ethers).
 */
public final class StreamGrantTypedData implements StreamGrantRules.Signatures {
    public static final String GRANT_TYPE =
            "StreamGrant(bytes32 rental,string session,address agent,string kinds,uint64 expires,bytes32 nonce)";
    public static final String NAME = "gpu-agent";
    public static final String VERSION = "1";
    private static final byte[] GRANT_TYPEHASH = VoucherTypedData.keccak(GRANT_TYPE);

    private final byte[] domainSeparator;

    public StreamGrantTypedData(long chainId, String contract) {
        if (contract == null || !contract.matches("0x[0-9a-fA-F]{40}")) {
            throw new IllegalArgumentException("contract must be a 0x address, was " + contract);
        }
        this.domainSeparator = Hash.sha3(VoucherTypedData.concat(VoucherTypedData.keccak(VoucherTypedData.DOMAIN_TYPE), VoucherTypedData.keccak(NAME), VoucherTypedData.keccak(VERSION),
                VoucherTypedData.word(BigInteger.valueOf(chainId)),
                VoucherTypedData.word(Numeric.toBigInt(contract.toLowerCase(Locale.ROOT)))));
    }

    /** The digest the renter signs (32 bytes). */
    public byte[] digest(StreamGrant g) {
        byte[] rental = bytes32(g.rental(), "rental");
        byte[] nonce = bytes32(g.nonce(), "nonce");
        if (g.agent() == null || !g.agent().matches("0x[0-9a-f]{40}")) {
            throw new IllegalArgumentException("agent must be a 0x address, was " + g.agent());
        }
        byte[] struct = Hash.sha3(VoucherTypedData.concat(GRANT_TYPEHASH, rental, VoucherTypedData.keccak(g.session()),
                VoucherTypedData.word(Numeric.toBigInt(g.agent())), VoucherTypedData.keccak(g.kinds()),
                VoucherTypedData.word(BigInteger.valueOf(g.expires())), nonce));
        return Hash.sha3(VoucherTypedData.concat(new byte[] {0x19, 0x01}, domainSeparator, struct));
    }

    /** The grant signed by {@code key} (tests, the scheduler client's renter). */
    public StreamGrant sign(StreamGrant unsigned, ECKeyPair key) {
        return new StreamGrant(unsigned.rental(), unsigned.session(), unsigned.agent(), unsigned.kinds(), unsigned.expires(),
                unsigned.nonce(), Signatures.signDigest(digest(unsigned), key));
    }

    @Override
    public String recoverSigner(StreamGrant g) {
        try {
            return Signatures.recover(digest(g), g.signature());
        } catch (SignatureException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static byte[] bytes32(String hex, String what) {
        if (hex == null || !hex.matches("0x[0-9a-f]{64}")) {
            throw new IllegalArgumentException(what + " must be 0x and 64 hex digits, was " + hex);
        }
        return Numeric.hexStringToByteArray(hex);
    }
}
