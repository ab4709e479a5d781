package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.StreamGrant;
import io.gpuagent.escrow.StreamGrantException;
import io.gpuagent.escrow.StreamGrantRules;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Numeric;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The renter's stream grant (docs/streams.md) against a vector computed with ethers 6.17.0
 * (contracts/node_modules), and the rules that let a stream in:
 * <pre>
 * const w = new ethers.Wallet("0x" + "11".repeat(32));
 * const domain = {name: "gpu-agent", version: "1", chainId: 137, verifyingContract: "0x" + "cd".repeat(20)};
 * const types = {StreamGrant: [{name: "rental", type: "bytes32"}, {name: "session", type: "string"},
 *   {name: "agent", type: "address"}, {name: "kinds", type: "string"}, {name: "expires", type: "uint64"},
 *   {name: "nonce", type: "bytes32"}]};
 * const value = {rental: "0x" + "ab".repeat(32), session: "s-8c1f", agent: "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4",
 *   kinds: "exec,tunnel", expires: 1795082400, nonce: "0x" + "01".repeat(32)};
 * ethers.TypedDataEncoder.hash(domain, types, value); await w.signTypedData(domain, types, value);
 * </pre>
 */
class StreamGrantTypedDataTest {
    private static final Credentials RENTER = Credentials.create("0x" + "11".repeat(32));
    private static final String AGENT = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4";
    private static final String RENTAL = "0x" + "ab".repeat(32);
    private static final long EXPIRES = 1795082400L;
    private static final StreamGrantTypedData TYPED = new StreamGrantTypedData(137, "0x" + "cd".repeat(20));
    private static final String ETHERS_SIGNATURE = "0xde17956243ada7a8f681d083102c0a583604590bb060780d7e5b58ea9d1f10f5"
            + "4cfc35a4ce5c5da3b477cdff88aa53d500dfa7becbc416ff5be57894657814e31b";

    private static StreamGrant grant(String kinds, long expires, String signature) {
        return new StreamGrant(RENTAL, "s-8c1f", AGENT, kinds, expires, "0x" + "01".repeat(32), signature);
    }

    @Test
    void theDigestAndTheSignatureAreEthers() {
        assertThat(RENTER.getAddress()).isEqualToIgnoringCase("0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A");
        assertThat(Numeric.toHexString(TYPED.digest(grant("exec,tunnel", EXPIRES, null))))
                .isEqualTo("0x01552894d4b5c8a899bd32ad76d41ef3cd2bd712bcea2b95a5c81077340435ef");
        assertThat(TYPED.sign(grant("exec,tunnel", EXPIRES, null), RENTER.getEcKeyPair()).signature())
                .isEqualTo(ETHERS_SIGNATURE);
        assertThat(TYPED.recoverSigner(grant("exec,tunnel", EXPIRES, ETHERS_SIGNATURE)))
                .isEqualToIgnoringCase(RENTER.getAddress());
        assertThat(StreamGrant.kinds(List.of("tunnel", "exec", "logs"))).isEqualTo("exec,tunnel");
    }

    @Test
    void aGrantLetsInOnlyWhatItsRentersSignerSignedForThisAgentAndSessionUntilItExpires() throws Exception {
        long now = EXPIRES - 600;
        StreamGrant good = grant("exec,tunnel", EXPIRES, ETHERS_SIGNATURE);
        StreamGrantRules.check(good, "exec", RENTAL, RENTER.getAddress(), AGENT, now, TYPED);
        StreamGrantRules.check(good, "tunnel", RENTAL, RENTER.getAddress(), AGENT, now, TYPED);

        Object[][] bad = {
                {good, "exec", RENTAL, "0x" + "99".repeat(20), AGENT, now, "not by rental"},
                {good, "exec", "0x" + "cc".repeat(32), RENTER.getAddress(), AGENT, now, "is paid by"},
                {good, "exec", RENTAL, RENTER.getAddress(), "0x" + "98".repeat(20), now, "this agent is"},
                {good, "exec", RENTAL, RENTER.getAddress(), AGENT, EXPIRES, "expired"},
                {good, "exec", RENTAL, RENTER.getAddress(), AGENT, EXPIRES - 86_401, "more than a day ahead"},
                {grant("tunnel", EXPIRES, ETHERS_SIGNATURE), "exec", RENTAL, RENTER.getAddress(), AGENT, now, "allows tunnel, not exec"},
                // the same signature over other kinds recovers someone else
                {grant("exec", EXPIRES, ETHERS_SIGNATURE), "exec", RENTAL, RENTER.getAddress(), AGENT, now, "is signed by"},
                {grant("exec,tunnel", EXPIRES, "0x1234"), "exec", RENTAL, RENTER.getAddress(), AGENT, now, "no signer"},
                {new StreamGrant(RENTAL, "s-8c1f", AGENT, "exec", EXPIRES, "0x01", ETHERS_SIGNATURE), "exec", RENTAL,
                        RENTER.getAddress(), AGENT, now, "nonce"},
        };
        for (Object[] c : bad) {
            assertThatThrownBy(() -> StreamGrantRules.check((StreamGrant) c[0], (String) c[1], (String) c[2], (String) c[3],
                    (String) c[4], (long) c[5], TYPED)).isInstanceOf(StreamGrantException.class)
                    .hasMessageContaining((String) c[6])
                    .satisfies(e -> assertThat(((StreamGrantException) e).code()).isEqualTo("grant_invalid"));
        }
    }
}
