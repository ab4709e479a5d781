package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.VoucherException;
import io.gpuagent.escrow.VoucherSignatures;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SignatureException;
import java.util.Locale;

/**
 * EIP-712 hashing of vouchers for one escrow deployment:
 * <pre>
 * domainSeparator = keccak256(abi.encode(
 *     keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
 *     keccak256("GpuEscrow"), keccak256("1"), chainId, contract))
 * structHash      = keccak256(abi.encode(
 *     keccak256("Voucher(bytes32 rentalId,uint64 cumulativeSeconds,uint256 cumulativeAmount)"),
 *     rentalId, cumulativeSeconds, cumulativeAmount))
 * digest          = keccak256(0x19 0x01 || domainSeparator || structHash)
 * </pre>
 * The contract's {@code voucherDigest} view computes the same digest (checked in EscrowChainIT).
 * Signing is here too: for tests, the demo's renter and the scheduler client.
 */
public final class VoucherTypedData implements VoucherSignatures {
    public static final String DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
    public static final String VOUCHER_TYPE = "Voucher(bytes32 rentalId,uint64 cumulativeSeconds,uint256 cumulativeAmount)";
    public static final String NAME = "GpuEscrow";
    public static final String VERSION = "1";

    private static final byte[] DOMAIN_TYPEHASH = keccak(DOMAIN_TYPE);
    private static final byte[] VOUCHER_TYPEHASH = keccak(VOUCHER_TYPE);

    private final long chainId;
    private final String contract;
    private final byte[] domainSeparator;

    public VoucherTypedData(long chainId, String contract) {
        if (contract == null || !contract.matches("0x[0-9a-fA-F]{40}")) {
            throw new IllegalArgumentException("contract must be a 0x address, was " + contract);
        }
        this.chainId = chainId;
        this.contract = contract.toLowerCase(Locale.ROOT);
        this.domainSeparator = Hash.sha3(concat(DOMAIN_TYPEHASH, keccak(NAME), keccak(VERSION),
                word(BigInteger.valueOf(chainId)), word(Numeric.toBigInt(this.contract))));
    }

    public long chainId() {
        return chainId;
    }

    public String contract() {
        return contract;
    }

    /** The domain separator (32 bytes). */
    public byte[] domainSeparator() {
        return domainSeparator.clone();
    }

    /** The digest a voucher signer signs (32 bytes). */
    public byte[] digest(String rentalId, long cumulativeSeconds, BigInteger cumulativeAmount) {
        byte[] id = Numeric.hexStringToByteArray(rentalId);
        if (id.length != 32) {
            throw new IllegalArgumentException("rentalId must be 32 bytes, was " + id.length);
        }
        byte[] structHash = Hash.sha3(concat(VOUCHER_TYPEHASH, id, word(BigInteger.valueOf(cumulativeSeconds)),
                word(cumulativeAmount)));
        return Hash.sha3(concat(new byte[] {0x19, 0x01}, domainSeparator, structHash));
    }

    /** A voucher signed by {@code key} (the renter, or its session key). */
    public Voucher sign(String rentalId, long cumulativeSeconds, BigInteger cumulativeAmount, ECKeyPair key) {
        String sig = Signatures.signDigest(digest(rentalId, cumulativeSeconds, cumulativeAmount), key);
        return new Voucher(rentalId, cumulativeSeconds, cumulativeAmount, sig);
    }

    @Override
    public String recoverSigner(Voucher v) throws VoucherException {
        try {
            return Signatures.recover(digest(v.rentalId(), v.cumulativeSeconds(), v.cumulativeAmount()), v.signature());
        } catch (SignatureException | RuntimeException e) {
            throw new VoucherException(VoucherException.Code.BAD_SIGNATURE, "voucher for rental " + v.rentalId()
                    + ": no signer can be recovered from its signature (" + e.getMessage() + ")", e);
        }
    }

    static byte[] keccak(String s) {
        return Hash.sha3(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A uint256 ABI word. */
    static byte[] word(BigInteger v) {
        if (v.signum() < 0 || v.bitLength() > 256) {
            throw new IllegalArgumentException("not a uint256: " + v);
        }
        return Numeric.toBytesPadded(v, 32);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
