package io.gpuagent.escrow;

import java.util.Arrays;

/**
 * When a renter's grant lets a stream in (docs/streams.md): signed by the rental's voucher signer,
 * for this session, this rental and this agent, not expired nor more than a day ahead, allowing
 * the kind. Pure: the signer recovery and the rental's terms come in.
 */
public final class StreamGrantRules {
    private StreamGrantRules() {
    }

    /** What a grant's signature recovers to, under the escrow's chain and contract. */
    @FunctionalInterface
    public interface Signatures {
        /** @throws IllegalArgumentException when nothing can be recovered */
        String recoverSigner(StreamGrant g);
    }

    /**
     * @param kind           the stream's kind ({@code exec} or {@code tunnel})
     * @param sessionRental  the rental that pays for the session
     * @param voucherSigner  the rental's voucher signer, from the chain
     * @param agentAddress   this agent's payout address
     * @throws StreamGrantException {@code grant_invalid}, naming what failed
     */
    public static void check(StreamGrant g, String kind, String sessionRental, String voucherSigner, String agentAddress,
                             long nowSeconds, Signatures signatures) throws StreamGrantException {
        if (g.rental() == null || !g.rental().equalsIgnoreCase(sessionRental)) {
            throw invalid("the grant is for rental " + g.rental() + ", session " + g.session() + " is paid by " + sessionRental);
        }
        if (g.agent() == null || !g.agent().equalsIgnoreCase(agentAddress)) {
            throw invalid("the grant is for agent " + g.agent() + ", this agent is " + agentAddress);
        }
        if (!Arrays.asList(g.kinds().split(",")).contains(kind)) {
            throw invalid("the grant allows " + (g.kinds().isEmpty() ? "nothing" : g.kinds()) + ", not " + kind);
        }
        if (g.expires() <= nowSeconds) {
            throw invalid("the grant expired at " + java.time.Instant.ofEpochSecond(g.expires()));
        }
        if (g.expires() > nowSeconds + StreamGrant.MAX_AHEAD_S) {
            throw invalid("the grant runs until " + java.time.Instant.ofEpochSecond(g.expires())
                    + ", more than a day ahead: ask the renter for a shorter one");
        }
        if (g.nonce() == null || !g.nonce().matches("0x[0-9a-f]{64}")) {
            throw invalid("the grant's nonce must be 0x and 64 hex digits");
        }
        String signer;
        try {
            signer = signatures.recoverSigner(g);
        } catch (RuntimeException e) {
            throw invalid("no signer can be recovered from the grant's signature (" + e.getMessage() + ")");
        }
        if (!signer.equalsIgnoreCase(voucherSigner)) {
            throw invalid("the grant is signed by " + signer + ", not by rental " + sessionRental + "'s voucher signer "
                    + voucherSigner);
        }
    }

    private static StreamGrantException invalid(String why) {
        return new StreamGrantException("grant_invalid", why);
    }
}
