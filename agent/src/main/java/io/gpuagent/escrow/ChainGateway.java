package io.gpuagent.escrow;

import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the claim worker needs from the chain and the wallet, for one key and one escrow contract.
 * The web3j adapter implements it over JSON-RPC; tests use a fake with knobs. Every method that
 * talks to the node throws {@link ChainException} when it cannot (retryable); none retries itself.
 */
public interface ChainGateway extends AutoCloseable {
    /** The provider's address (the wallet's), lowercase 0x + 40 hex digits. */
    String providerAddress();

    /** The rental as the contract reports it (an unknown one has {@link RentalTerms#exists()} false). */
    RentalTerms rental(String rentalId) throws ChainException;

    /** The latest block's number. */
    long latestBlock() throws ChainException;

    /** The latest block's timestamp (chain time, epoch seconds): what the contract compares with. */
    long chainTime() throws ChainException;

    /** The {@code finalized} block's number, or empty when the node does not know the tag. */
    OptionalLong finalizedBlock() throws ChainException;

    /** Base fee and suggested tip now. */
    FeeQuote fees() throws ChainException;

    /** The provider's next nonce: counting pending transactions when {@code pending}, else mined ones only. */
    long nonce(boolean pending) throws ChainException;

    /** Gas the claim would use now; throws {@link ClaimRevertException} when it would revert. */
    BigInteger estimateClaimGas(List<ClaimItem> items) throws ChainException, ClaimRevertException;

    /** Signs a claim ({@code claim} for one item, {@code claimBatch} for several); local, no RPC. */
    SignedTx signClaim(List<ClaimItem> items, long nonce, BigInteger gasLimit, Fees fees);

    /** Broadcasts raw transaction bytes. */
    SendResult send(String rawTx) throws ChainException;

    /** The receipt, if the transaction is mined. */
    Optional<TxReceipt> receipt(String txHash) throws ChainException;

    /** Whether the node knows the transaction (in its pool or mined). */
    boolean known(String txHash) throws ChainException;

    /** CloseRequested events of the escrow contract in blocks {@code from..to}, inclusive. */
    List<CloseRequest> closeRequests(long from, long to) throws ChainException;

    /** Releases the connection; the default has none. */
    @Override
    default void close() {
    }
}
