package io.gpuagent.escrow.web3j;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.escrow.ChainException;
import io.gpuagent.escrow.ClaimPolicy;
import io.gpuagent.escrow.EscrowPayouts;
import io.gpuagent.escrow.EscrowStore;
import io.gpuagent.escrow.Payouts;
import io.gpuagent.escrow.WalletException;
import io.gpuagent.escrow.WalletPassword;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Credentials;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;


/**
 * Builds the web3j-backed {@link Payouts}: wallet, JSON-RPC gateway, EIP-712 verifier, store,
 * claim worker, started in that order (close is the reverse).
 */
public final class Web3jPayouts {
    private static final Logger log = LoggerFactory.getLogger(Web3jPayouts.class);
    /** One RPC call's timeout: a hung node delays claims, it never hangs the worker. */
    static final Duration RPC_TIMEOUT = Duration.ofSeconds(10);

    private Web3jPayouts() {
    }

    /**
     * Opens the wallet (the password from {@code escrow.password_file} or the systemd credential),
     * the store under {@code <stateDir>/escrow}, and starts the claim worker. An unreachable RPC is
     * not an error (claims wait); a node on another chain id is.
     *
     * @throws WalletException when the keystore or its password cannot be used (the message says the fix)
     * @throws IOException     when the store cannot be opened or recovered, or the node serves another chain
     */
    public static Payouts start(AgentConfig.Escrow cfg, Path stateDir, Clock clock) throws WalletException, IOException {
        String password = WalletPassword.read(cfg.passwordFile(), cfg.passwordCredential(), System.getenv());
        Path keystore = Keystore.path(cfg.keystore(), stateDir);
        Credentials credentials = Keystore.load(keystore, password);
        return start(cfg, stateDir, clock, credentials);
    }

    /** {@link #start(AgentConfig.Escrow, Path, Clock)} with an opened wallet (tests, tools). */
    public static EscrowPayouts start(AgentConfig.Escrow cfg, Path stateDir, Clock clock, Credentials credentials)
            throws IOException {
        Web3jChain chain = new Web3jChain(cfg.rpcUrl(), cfg.chainId(), cfg.contract(), credentials, RPC_TIMEOUT);
        try {
            long id = chain.nodeChainId();
            if (id != cfg.chainId()) {
                chain.close();
                throw new IOException("the node at escrow.rpc_url serves chain id " + id + ", but escrow.chain_id is "
                        + cfg.chainId() + ": vouchers and claims would be for the wrong chain");
            }
        } catch (ChainException e) {
            log.warn("escrow: the chain RPC is not reachable at start ({}); claims wait until it is", e.getMessage());
        }
        EscrowStore store;
        try {
            store = EscrowStore.open(EscrowStore.directory(stateDir), clock);
        } catch (IOException | RuntimeException e) {
            chain.close();
            throw e;
        }
        WalletSigner signer = new WalletSigner(credentials);
        log.info("escrow: wallet {}, contract {} on chain {} via {}", signer.address(), cfg.contract(), cfg.chainId(),
                redact(cfg.rpcUrl()));
        return new EscrowPayouts(chain, new VoucherTypedData(cfg.chainId(), cfg.contract()), signer, store,
                ClaimPolicy.of(cfg), clock).grantSignatures(new StreamGrantTypedData(cfg.chainId(), cfg.contract())).start();
    }

    /** RPC URLs often carry an API key in the path or query: log scheme and host only. */
    static String redact(String url) {
        java.net.URI u = java.net.URI.create(url);
        return u.getScheme() + "://" + u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : "") + (u.getRawPath() == null
                || u.getRawPath().isEmpty() || u.getRawPath().equals("/") ? "" : "/…");
    }

}
