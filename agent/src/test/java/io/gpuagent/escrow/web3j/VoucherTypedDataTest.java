package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.VoucherException;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.ECKeyPair;
import org.web3j.crypto.Keys;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SignatureException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * EIP-712 and EIP-191 against vectors computed with ethers 6.17.0 (contracts/node_modules):
 * <pre>
 * const w = new ethers.Wallet("0x" + "11".repeat(32));
 * const domain = { name: "GpuEscrow", version: "1", chainId: 1337,
 *                  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };
 * const types = { Voucher: [{name:"rentalId",type:"bytes32"},{name:"cumulativeSeconds",type:"uint64"},
 *                           {name:"cumulativeAmount",type:"uint256"}] };
 * const value = { rentalId: "0x" + "ab".repeat(32), cumulativeSeconds: 3600n,
 *                 cumulativeAmount: 123456789012345678901234567890n };
 * TypedDataEncoder.hashDomain(domain); TypedDataEncoder.hash(domain, types, value);
 * await w.signTypedData(domain, types, value);
 * await w.signMessage(toUtf8Bytes("gpu-agent challenge 42"));
 * </pre>
 * Both sides sign deterministically (RFC 6979), so the signatures match byte for byte. The
 * contract's own voucherDigest agrees too (EscrowChainIT).
 */
class VoucherTypedDataTest {
    static final ECKeyPair KEY = ECKeyPair.create(Numeric.toBigInt("0x" + "11".repeat(32)));
    static final String ADDRESS = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";
    static final String CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    static final String RENTAL = "0x" + "ab".repeat(32);
    static final BigInteger AMOUNT = new BigInteger("123456789012345678901234567890");
    static final String SIGNATURE = "0x4e55b7ae79c2785a2153e6da715132287c77c382e7dd90c4ad78a818c3a3790b"
            + "52aaf465c4743574d24fdd67372d7efa79d535d630860e2872b6ec8b66aed3281b";
    static final String PERSONAL = "0xc6f8c07a1cab561866e2bed7d909ff41bf5914578b79dc63e7f35eea59793091"
            + "7a54f9299bc0f381e0808b52a988c4cbca282de9133129671ec7067ff91c7c411c";

    final VoucherTypedData typed = new VoucherTypedData(1337, CONTRACT);

    @Test
    void domainSeparatorDigestAndSignatureMatchEthers() throws Exception {
        assertThat(Keys.toChecksumAddress(Keys.getAddress(KEY))).isEqualTo(ADDRESS);
        assertThat(Numeric.toHexString(typed.domainSeparator()))
                .isEqualTo("0xf3f6c108d2628b611137aa03b5dd2214614f6773961ec02b20366b9332f1008d");
        assertThat(Numeric.toHexString(typed.digest(RENTAL, 3600, AMOUNT)))
                .isEqualTo("0x9b627006753f61f48b45786ca6a1d6c72376e62acaf3b7bc6acb114b28a82df6");
        Voucher v = typed.sign(RENTAL, 3600, AMOUNT, KEY);
        assertThat(v.signature()).isEqualTo(SIGNATURE);
        assertThat(typed.recoverSigner(v)).isEqualTo(ADDRESS.toLowerCase());
    }

    @Test
    void aVoucherSignedForAnotherContractChainOrRentalRecoversAnotherSigner() throws Exception {
        Voucher v = new Voucher(RENTAL, 3600, AMOUNT, SIGNATURE);
        String me = ADDRESS.toLowerCase();
        assertThat(new VoucherTypedData(137, CONTRACT).recoverSigner(v)).isNotEqualTo(me);
        assertThat(new VoucherTypedData(1337, "0x" + "00".repeat(19) + "01").recoverSigner(v)).isNotEqualTo(me);
        assertThat(typed.recoverSigner(new Voucher("0x" + "ac".repeat(32), 3600, AMOUNT, SIGNATURE))).isNotEqualTo(me);
        assertThat(typed.recoverSigner(new Voucher(RENTAL, 3601, AMOUNT, SIGNATURE))).isNotEqualTo(me);
    }

    @Test
    void personalSignMatchesEthersAndRecoversTheChecksummedAddress() throws Exception {
        byte[] msg = "gpu-agent challenge 42".getBytes(StandardCharsets.UTF_8);
        assertThat(Signatures.signPersonal(msg, KEY)).isEqualTo(PERSONAL);
        assertThat(Signatures.recoverPersonal(msg, PERSONAL)).isEqualTo(ADDRESS);
        assertThat(Signatures.recoverPersonal("another".getBytes(StandardCharsets.UTF_8), PERSONAL)).isNotEqualTo(ADDRESS);
    }

    @Test
    void malformedAndMalleatedSignaturesAreRefused() {
        byte[] msg = "x".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Signatures.recoverPersonal(msg, "0x1234")).isInstanceOf(SignatureException.class)
                .hasMessageContaining("130 hex digits");
        assertThatThrownBy(() -> Signatures.recoverPersonal(msg, PERSONAL.substring(0, 130) + "01"))
                .isInstanceOf(SignatureException.class).hasMessageContaining("v must be 27 or 28");
        // the same signature with s' = n - s and v flipped: valid ECDSA, but refused by OpenZeppelin and by us
        BigInteger n = org.web3j.crypto.Sign.CURVE_PARAMS.getN();
        BigInteger s = Numeric.toBigInt(SIGNATURE.substring(66, 130));
        String high = SIGNATURE.substring(0, 66) + Numeric.toHexStringNoPrefixZeroPadded(n.subtract(s), 64) + "1c";
        assertThatThrownBy(() -> typed.recoverSigner(new Voucher(RENTAL, 3600, AMOUNT, high)))
                .isInstanceOf(VoucherException.class).hasMessageContaining("voucher_bad_signature").hasMessageContaining("high s");
    }
}
