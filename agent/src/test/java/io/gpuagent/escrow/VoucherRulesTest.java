package io.gpuagent.escrow;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VoucherRulesTest {
    static final String ID = "0x" + "ab".repeat(32);
    static final String SIG = "0x" + "11".repeat(64) + "1b";
    static final String ME = "0x00000000000000000000000000000000000000aa";
    static final String SIGNER = "0x00000000000000000000000000000000000000cc";

    static RentalTerms terms(boolean closed, BigInteger claimed) {
        return new RentalTerms(ID, "0x00000000000000000000000000000000000000bb", ME, SIGNER, BigInteger.valueOf(1_000_000),
                claimed, BigInteger.valueOf(100), 1000, 999_999, 5000, 1000, closed);
    }

    static Voucher v(long s, long amount) {
        return new Voucher(ID, s, BigInteger.valueOf(amount), SIG);
    }

    static void refused(Voucher v, RentalTerms t, String signer, Voucher held, VoucherException.Code code, String text) {
        assertThatThrownBy(() -> VoucherRules.check(v, t, signer, ME, held)).isInstanceOfSatisfying(VoucherException.class,
                e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.getMessage()).startsWith(code.wire() + ": ").contains(text);
                });
    }

    @Test
    void aVoucherWithinTheTermsIsTheNewHighestAndAnEqualOneIsADuplicate() throws Exception {
        RentalTerms t = terms(false, BigInteger.ZERO);
        assertThat(VoucherRules.check(v(10, 1000), t, SIGNER, ME, null)).isEqualTo(VoucherRules.Outcome.NEW_HIGHEST);
        assertThat(VoucherRules.check(v(20, 2000), t, SIGNER, ME, v(10, 1000))).isEqualTo(VoucherRules.Outcome.NEW_HIGHEST);
        assertThat(VoucherRules.check(v(10, 1000), t, SIGNER, ME, v(10, 1000))).isEqualTo(VoucherRules.Outcome.DUPLICATE);
        assertThat(VoucherRules.check(v(5000, 500_000), t, SIGNER, ME, null)).isEqualTo(VoucherRules.Outcome.NEW_HIGHEST);
    }

    @Test
    void eachRuleHasItsStableCode() {
        RentalTerms t = terms(false, BigInteger.ZERO);
        RentalTerms unknown = new RentalTerms(ID, RentalTerms.ZERO_ADDRESS, RentalTerms.ZERO_ADDRESS, RentalTerms.ZERO_ADDRESS,
                BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, 0, 0, 0, 0, false);
        refused(v(10, 1000), unknown, SIGNER, null, VoucherException.Code.UNKNOWN_RENTAL, "does not exist");
        RentalTerms other = new RentalTerms(ID, t.renter(), "0x00000000000000000000000000000000000000dd", SIGNER, t.deposit(),
                BigInteger.ZERO, t.maxRatePerSecond(), 0, 999_999, 5000, 0, false);
        refused(v(10, 1000), other, SIGNER, null, VoucherException.Code.WRONG_PROVIDER, "not this agent");
        refused(v(10, 1000), terms(true, BigInteger.ZERO), SIGNER, null, VoucherException.Code.RENTAL_CLOSED, "closed");
        refused(v(10, 1000), t, "0x00000000000000000000000000000000000000ee", null, VoucherException.Code.BAD_SIGNATURE,
                "not by the rental's voucher signer");
        refused(v(10, 900), t, SIGNER, v(10, 1000), VoucherException.Code.NOT_INCREASING, "below the 1000 already held");
        refused(v(9, 1100), t, SIGNER, v(10, 1000), VoucherException.Code.NOT_INCREASING, "fewer than the 10 s");
        refused(v(10, 1000), terms(false, BigInteger.valueOf(1500)), SIGNER, null, VoucherException.Code.NOT_INCREASING,
                "already claimed on chain");
        refused(v(5001, 1000), t, SIGNER, null, VoucherException.Code.OVER_DURATION, "more than the rental's maximum of 5000 s");
        refused(v(10, 1001), t, SIGNER, null, VoucherException.Code.OVER_RATE, "max rate 100/s allows (1000)");
        RentalTerms small = new RentalTerms(ID, t.renter(), ME, SIGNER, BigInteger.valueOf(500), BigInteger.ZERO,
                t.maxRatePerSecond(), 0, 999_999, 5000, 0, false);
        refused(v(10, 501), small, SIGNER, null, VoucherException.Code.OVER_DEPOSIT, "more than the deposit of 500");
    }

    @Test
    void malformedVouchersAreNamedByTheirFirstBadField() {
        assertThatThrownBy(() -> new Voucher("0x12", 1, BigInteger.ONE, SIG).checkWellFormed()).hasMessageContaining("voucher_malformed: rentalId");
        assertThatThrownBy(() -> new Voucher(ID, -1, BigInteger.ONE, SIG).checkWellFormed()).hasMessageContaining("cumulativeSeconds");
        assertThatThrownBy(() -> new Voucher(ID, 1, BigInteger.valueOf(-1), SIG).checkWellFormed()).hasMessageContaining("cumulativeAmount");
        assertThatThrownBy(() -> new Voucher(ID, 1, BigInteger.ONE.shiftLeft(256), SIG).checkWellFormed()).hasMessageContaining("cumulativeAmount");
        assertThatThrownBy(() -> new Voucher(ID, 1, BigInteger.ONE, "0x11").checkWellFormed()).hasMessageContaining("signature");
        assertThatThrownBy(() -> new Voucher(ID, 1, BigInteger.ONE, SIG.substring(0, 130) + "00").checkWellFormed()).hasMessageContaining("v must be 27 or 28");
    }
}
