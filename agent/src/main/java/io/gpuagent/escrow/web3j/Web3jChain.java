package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.ChainException;
import io.gpuagent.escrow.ChainGateway;
import io.gpuagent.escrow.ClaimItem;
import io.gpuagent.escrow.ClaimRevertException;
import io.gpuagent.escrow.CloseRequest;
import io.gpuagent.escrow.FeeQuote;
import io.gpuagent.escrow.Fees;
import io.gpuagent.escrow.RentalTerms;
import io.gpuagent.escrow.SendResult;
import io.gpuagent.escrow.SignedTx;
import io.gpuagent.escrow.TxReceipt;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.abi.FunctionEncoder;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameter;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthBlock;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@link ChainGateway} over JSON-RPC (HTTP) with web3j, for one wallet key and one escrow
 * contract. Each method is one or two RPC calls, never retried here: the claim worker owns retries.
 * I/O failures and RPC errors become {@link ChainException}; revert data of an estimate becomes
 * {@link ClaimRevertException} with the escrow's error name.
 */
public final class Web3jChain implements ChainGateway, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Web3jChain.class);

    private final Web3j web3j;
    private final Credentials credentials;
    private final String provider;
    private final String contract;
    private final long chainId;

    public Web3jChain(String rpcUrl, long chainId, String contract, Credentials credentials, Duration timeout) {
        OkHttpClient http = new OkHttpClient.Builder().connectTimeout(timeout).readTimeout(timeout).writeTimeout(timeout)
                .callTimeout(timeout.multipliedBy(2)).retryOnConnectionFailure(false).build();
        this.web3j = Web3j.build(new HttpService(rpcUrl, http));
        this.credentials = credentials;
        this.provider = credentials.getAddress().toLowerCase(Locale.ROOT);
        this.contract = contract.toLowerCase(Locale.ROOT);
        this.chainId = chainId;
    }

    /** The chain id the node reports (checked against the config at start). */
    public long nodeChainId() throws ChainException {
        return call("eth_chainId", web3j.ethChainId()).getChainId().longValueExact();
    }

    @Override
    public String providerAddress() {
        return provider;
    }

    @Override
    public RentalTerms rental(String rentalId) throws ChainException {
        String data = FunctionEncoder.encode(EscrowAbi.rentalFunction(rentalId));
        String result = call("eth_call rental", web3j.ethCall(Transaction.createEthCallTransaction(provider, contract, data),
                DefaultBlockParameterName.LATEST)).getValue();
        if (result == null || result.equals("0x")) {
            throw new ChainException("eth_call rental(" + rentalId + ") returned no data: is " + contract
                    + " the escrow contract on chain " + chainId + "?");
        }
        try {
            return EscrowAbi.decodeRental(rentalId, result);
        } catch (RuntimeException e) {
            throw new ChainException("cannot decode rental(" + rentalId + "): " + e.getMessage(), e);
        }
    }

    @Override
    public long latestBlock() throws ChainException {
        return call("eth_blockNumber", web3j.ethBlockNumber()).getBlockNumber().longValueExact();
    }

    private EthBlock.Block block(DefaultBlockParameter which) throws ChainException {
        EthBlock.Block b = call("eth_getBlockByNumber", web3j.ethGetBlockByNumber(which, false)).getBlock();
        if (b == null) {
            throw new ChainException("eth_getBlockByNumber(" + which.getValue() + ") returned no block");
        }
        return b;
    }

    @Override
    public long chainTime() throws ChainException {
        return block(DefaultBlockParameterName.LATEST).getTimestamp().longValueExact();
    }

    @Override
    public OptionalLong finalizedBlock() throws ChainException {
        EthBlock r = send("eth_getBlockByNumber finalized", web3j.ethGetBlockByNumber(DefaultBlockParameterName.FINALIZED, false));
        if (r.hasError() || r.getBlock() == null) {
            return OptionalLong.empty(); // a node without the tag (pre-merge clients): the worker counts confirmations
        }
        return OptionalLong.of(r.getBlock().getNumber().longValueExact());
    }

    @Override
    public FeeQuote fees() throws ChainException {
        BigInteger base = block(DefaultBlockParameterName.LATEST).getBaseFeePerGas();
        var tip = send("eth_maxPriorityFeePerGas", web3j.ethMaxPriorityFeePerGas());
        BigInteger suggested;
        if (tip.hasError()) {
            // nodes without the method: the tip is what the gas price asks above the base fee
            BigInteger price = call("eth_gasPrice", web3j.ethGasPrice()).getGasPrice();
            suggested = price.subtract(base == null ? BigInteger.ZERO : base).max(BigInteger.ZERO);
        } else {
            suggested = tip.getMaxPriorityFeePerGas();
        }
        return new FeeQuote(base == null ? BigInteger.ZERO : base, suggested);
    }

    @Override
    public long nonce(boolean pending) throws ChainException {
        return call("eth_getTransactionCount", web3j.ethGetTransactionCount(provider,
                pending ? DefaultBlockParameterName.PENDING : DefaultBlockParameterName.LATEST)).getTransactionCount().longValueExact();
    }

    @Override
    public BigInteger estimateClaimGas(List<ClaimItem> items) throws ChainException, ClaimRevertException {
        Transaction tx = Transaction.createFunctionCallTransaction(provider, null, null, null, contract,
                EscrowAbi.claimCalldata(items));
        var r = send("eth_estimateGas", web3j.ethEstimateGas(tx));
        if (r.hasError()) {
            Response.Error e = r.getError();
            Optional<String> name = EscrowAbi.errorName(e.getData());
            if (name.isPresent() || e.getMessage().toLowerCase(Locale.ROOT).contains("revert")) {
                throw new ClaimRevertException(name.orElse(""), name.map(n -> n + ": ").orElse("") + e.getMessage());
            }
            throw new ChainException("eth_estimateGas: " + e.getMessage() + " (code " + e.getCode() + ")");
        }
        return r.getAmountUsed();
    }

    @Override
    public SignedTx signClaim(List<ClaimItem> items, long nonce, BigInteger gasLimit, Fees fees) {
        RawTransaction raw = RawTransaction.createTransaction(chainId, BigInteger.valueOf(nonce), gasLimit, contract,
                BigInteger.ZERO, EscrowAbi.claimCalldata(items), fees.maxPriorityFeePerGas(), fees.maxFeePerGas());
        byte[] signed = TransactionEncoder.signMessage(raw, chainId, credentials);
        return new SignedTx(Numeric.toHexString(Hash.sha3(signed)), Numeric.toHexString(signed), nonce, gasLimit,
                fees.maxFeePerGas(), fees.maxPriorityFeePerGas());
    }

    @Override
    public SendResult send(String rawTx) throws ChainException {
        var r = send("eth_sendRawTransaction", web3j.ethSendRawTransaction(rawTx));
        if (!r.hasError()) {
            return SendResult.ACCEPTED;
        }
        String m = r.getError().getMessage();
        SendResult c = classify(m);
        if (c == SendResult.REJECTED) {
            log.warn("escrow: eth_sendRawTransaction refused: {} (code {})", m, r.getError().getCode());
        }
        return c;
    }

    /** Node error messages of geth, erigon, bor, ganache and hardhat, classified. */
    static SendResult classify(String message) {
        String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
        if (m.contains("already known") || m.contains("already imported") || m.contains("known transaction")
                || m.contains("already in the mempool") || m.contains("already exists")) {
            return SendResult.ALREADY_KNOWN;
        }
        if (m.contains("nonce too low") || m.contains("nonce is too low") || m.contains("correct nonce")
                || m.contains("nonce has already been used")) {
            return SendResult.NONCE_TOO_LOW;
        }
        if (m.contains("underpriced") || m.contains("replacement fee too low")) {
            return SendResult.REPLACEMENT_UNDERPRICED;
        }
        return SendResult.REJECTED;
    }

    @Override
    public Optional<TxReceipt> receipt(String txHash) throws ChainException {
        Optional<TransactionReceipt> r = call("eth_getTransactionReceipt", web3j.ethGetTransactionReceipt(txHash)).getTransactionReceipt();
        if (r.isEmpty() || r.get().getBlockNumberRaw() == null) {
            return Optional.empty();
        }
        TransactionReceipt t = r.get();
        BigInteger price = t.getEffectiveGasPrice() == null ? BigInteger.ZERO : Numeric.decodeQuantity(t.getEffectiveGasPrice());
        return Optional.of(new TxReceipt(txHash, t.getBlockNumber().longValueExact(), t.getBlockHash(),
                "0x1".equals(t.getStatus()), t.getGasUsed(), price));
    }

    @Override
    public boolean known(String txHash) throws ChainException {
        return call("eth_getTransactionByHash", web3j.ethGetTransactionByHash(txHash)).getTransaction().isPresent();
    }

    @Override
    public List<CloseRequest> closeRequests(long from, long to) throws ChainException {
        EthFilter f = new EthFilter(DefaultBlockParameter.valueOf(BigInteger.valueOf(from)),
                DefaultBlockParameter.valueOf(BigInteger.valueOf(to)), contract);
        f.addSingleTopic(EscrowAbi.CLOSE_REQUESTED_TOPIC);
        List<CloseRequest> out = new ArrayList<>();
        for (EthLog.LogResult<?> lr : call("eth_getLogs", web3j.ethGetLogs(f)).getLogs()) {
            Log l = (Log) lr.get();
            if (l.isRemoved() || l.getTopics().size() < 2) {
                continue;
            }
            out.add(new CloseRequest(l.getTopics().get(1).toLowerCase(Locale.ROOT), Numeric.toBigInt(l.getData()).longValueExact(),
                    l.getBlockNumber().longValueExact()));
        }
        return out;
    }

    /** Sends a request; I/O failure -> ChainException; the response may carry an RPC error. */
    private static <T extends Response<?>> T send(String what, Request<?, T> request) throws ChainException {
        try {
            T r = request.send();
            if (r == null) {
                throw new ChainException(what + ": empty response");
            }
            return r;
        } catch (IOException e) {
            throw new ChainException(what + ": " + e, e);
        } catch (RuntimeException e) {
            // web3j's JSON mapping of a garbled answer (a proxy's error page, a truncated body)
            throw new ChainException(what + ": unreadable answer: " + e, e);
        }
    }

    /** Sends a request; an RPC error is a ChainException too. */
    private static <T extends Response<?>> T call(String what, Request<?, T> request) throws ChainException {
        T r = send(what, request);
        if (r.hasError()) {
            throw new ChainException(what + ": " + r.getError().getMessage() + " (code " + r.getError().getCode() + ")");
        }
        return r;
    }

    @Override
    public void close() {
        web3j.shutdown();
    }
}
