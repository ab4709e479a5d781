package io.gpuagent.escrow;

import java.util.List;
import java.util.Locale;

/**
 * A renter's grant to enter one session through the agent (docs/streams.md): EIP-712 typed data
 * signed by the rental's voucher signer, under the domain
 * {@code {name: "gpu-agent", version: "1", chainId, verifyingContract: the escrow contract}}:
 * <pre>
 *   StreamGrant(bytes32 rental,string session,address agent,string kinds,uint64 expires,bytes32 nonce)
 * </pre>
 * {@code agent} is the agent's payout address, {@code kinds} a comma-separated subset of
 * {@code exec,tunnel} in that order, {@code expires} seconds since the epoch.
 */
public record StreamGrant(String rental, String session, String agent, String kinds, long expires, String nonce,
                          String signature) {
    /** The longest a grant may run ahead: a day. */
    public static final long MAX_AHEAD_S = 86_400;
    /** The kinds a grant can allow. */
    public static final List<String> KINDS = List.of("exec", "tunnel");

    /** The canonical {@code kinds} string of a list (order of {@link #KINDS}, no duplicates). */
    public static String kinds(List<String> kinds) {
        return String.join(",", KINDS.stream().filter(kinds::contains).toList());
    }

    /** Lower-case hex of addresses and ids, as the typed data hashes them. */
    public StreamGrant {
        rental = rental == null ? null : rental.toLowerCase(Locale.ROOT);
        agent = agent == null ? null : agent.toLowerCase(Locale.ROOT);
        nonce = nonce == null ? null : nonce.toLowerCase(Locale.ROOT);
    }
}
