package io.gpuagent.escrow;

/** Recovers who signed a voucher under the escrow's EIP-712 domain (chain id and contract fixed). */
@FunctionalInterface
public interface VoucherSignatures {
    /**
     * @return the signer's address, lowercase 0x + 40 hex digits
     * @throws VoucherException {@code voucher_bad_signature} when no signer can be recovered
     */
    String recoverSigner(Voucher v) throws VoucherException;
}
