package io.gpuagent.devtools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.escrow.Voucher;
import io.gpuagent.escrow.web3j.VoucherTypedData;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint16;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint64;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The marketplace's and the renter's side of the escrow, for the demo ({@code gpu-agent demo})
 * and local try-outs: deploy the test token and the escrow from the committed artifacts, fund
 * accounts, open a rental, sign vouchers, read balances. Never used by the agent itself, which
 * only claims.
 */
public final class DemoMarketplace implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BigInteger GAS = BigInteger.valueOf(6_000_000);

    private final Web3j web3j;
    private final long chainId;

    /** The token and the escrow, deployed. */
    public record Deployment(String token, String escrow) {
    }

    private DemoMarketplace(Web3j web3j, long chainId) {
        this.web3j = web3j;
        this.chainId = chainId;
    }

    /** Connects to the node at {@code rpcUrl}, waiting up to {@code wait} for it to answer. */
    public static DemoMarketplace connect(String rpcUrl, Duration wait) throws IOException, InterruptedException {
        Web3j w = Web3j.build(new HttpService(rpcUrl));
        // real time on purpose (no injected Clock): the demo waits for another process, the node, to
        // answer, and gives up after a deadline a person sees pass; no logic measures anything with it
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            try {
                return new DemoMarketplace(w, w.ethChainId().send().getChainId().longValueExact());
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    w.shutdown();
                    throw new IOException("no EVM node answers at " + rpcUrl + " (" + e.getMessage()
                            + "); start one with scripts/chain.sh start", e);
                }
                Thread.sleep(250);
            }
        }
    }

    public long chainId() {
        return chainId;
    }

    /** An account of the demo (its key stays in here). */
    public static final class Account {
        private final Credentials credentials;

        private Account(Credentials credentials) {
            this.credentials = credentials;
        }

        public String getAddress() {
            return credentials.getAddress();
        }
    }

    /** An account from its private key (hex). */
    public static Account account(String privateKeyHex) {
        return new Account(Credentials.create(privateKeyHex));
    }

    public BigInteger ether(String address) throws IOException {
        return web3j.ethGetBalance(address, DefaultBlockParameterName.LATEST).send().getBalance();
    }

    /** Whether a contract is deployed at {@code address}. */
    public boolean hasCode(String address) throws IOException {
        String code = web3j.ethGetCode(address, DefaultBlockParameterName.LATEST).send().getCode();
        return code != null && code.length() > 2;
    }

    private static String bytecode(String artifact) throws IOException {
        try (InputStream in = DemoMarketplace.class.getResourceAsStream("/io/gpuagent/escrow/" + artifact + ".json")) {
            if (in == null) {
                throw new IOException("artifact " + artifact + ".json is missing from the jar");
            }
            JsonNode n = JSON.readTree(in);
            String b = n.get("bytecode").asText();
            return b.startsWith("0x") ? b : "0x" + b;
        }
    }

    /** Deploys the test token and the escrow, {@code platform} taking {@code feeBps} of every claim. */
    public Deployment deploy(Account platform, int feeBps, long settleWindowSeconds) throws IOException {
        String token = send(platform.credentials, null, bytecode("TestToken"), BigInteger.ZERO).getContractAddress();
        String args = FunctionEncoder.encodeConstructor(List.of(new Address(token), new Address(platform.getAddress()),
                new Uint16(feeBps), new Uint64(settleWindowSeconds)));
        String escrow = send(platform.credentials, null, bytecode("GpuEscrow") + args, BigInteger.ZERO).getContractAddress();
        return new Deployment(token, escrow);
    }

    /** Sends ether (gas money) from one account to another. */
    public void fund(Account from, String to, BigInteger wei) throws IOException {
        send(from.credentials, to, "0x", wei);
    }

    /** The renter mints test tokens, approves the escrow and opens a rental; returns the rental id. */
    public String open(Account renter, Deployment d, String provider, BigInteger deposit, BigInteger maxRatePerSecond,
                       long maxDurationSeconds) throws IOException {
        send(renter.credentials, d.token(), FunctionEncoder.encode(new Function("mint", List.of(new Address(renter.getAddress()),
                new Uint256(deposit)), List.of())), BigInteger.ZERO);
        send(renter.credentials, d.token(), FunctionEncoder.encode(new Function("approve", List.of(new Address(d.escrow()),
                new Uint256(deposit)), List.of())), BigInteger.ZERO);
        TransactionReceipt r = send(renter.credentials, d.escrow(), FunctionEncoder.encode(new Function("open", List.of(
                new Address(provider), new Uint256(deposit), new Uint256(maxRatePerSecond), new Uint64(maxDurationSeconds),
                new Address(renter.getAddress())), List.of())), BigInteger.ZERO);
        String topic = Hash.sha3String("RentalOpened(bytes32,address,address,uint256,uint256,uint64,address,uint16,uint64)");
        return r.getLogs().stream().filter(l -> l.getTopics().get(0).equals(topic)).findFirst()
                .orElseThrow(() -> new IOException("open() emitted no RentalOpened")).getTopics().get(1);
    }

    /** The renter signs a cumulative voucher (EIP-712, this chain and escrow in the domain). */
    public Voucher voucher(Account renter, Deployment d, String rentalId, long seconds, BigInteger amount) {
        return new VoucherTypedData(chainId, d.escrow()).sign(rentalId, seconds, amount, renter.credentials.getEcKeyPair());
    }

    /** The renter takes its refund (credited when the rental closed). */
    public void withdraw(Account renter, Deployment d) throws IOException {
        send(renter.credentials, d.escrow(), FunctionEncoder.encode(new Function("withdraw", List.of(), List.of())), BigInteger.ZERO);
    }

    public BigInteger tokenBalance(Deployment d, String account) throws IOException {
        return uint(d.token(), new Function("balanceOf", List.of(new Address(account)), List.of(new TypeReference<Uint256>() {
        })));
    }

    public BigInteger withdrawable(Deployment d, String account) throws IOException {
        return uint(d.escrow(), new Function("withdrawable", List.of(new Address(account)), List.of(new TypeReference<Uint256>() {
        })));
    }

    public BigInteger feesAccrued(Deployment d) throws IOException {
        return uint(d.escrow(), new Function("feesAccrued", List.of(), List.of(new TypeReference<Uint256>() {
        })));
    }

    @SuppressWarnings("rawtypes")
    private BigInteger uint(String to, Function f) throws IOException {
        String out = web3j.ethCall(Transaction.createEthCallTransaction(null, to, FunctionEncoder.encode(f)),
                DefaultBlockParameterName.LATEST).send().getValue();
        List<Type> values = FunctionReturnDecoder.decode(out, f.getOutputParameters());
        if (values.isEmpty()) {
            throw new IOException(f.getName() + "() at " + to + " answered nothing: is the contract deployed on this chain?");
        }
        return (BigInteger) values.get(0).getValue();
    }

    /** Signs, sends and waits for a type-2 transaction; throws when it reverted. */
    private TransactionReceipt send(Credentials from, String to, String data, BigInteger value) throws IOException {
        BigInteger nonce = web3j.ethGetTransactionCount(from.getAddress(), DefaultBlockParameterName.PENDING).send()
                .getTransactionCount();
        RawTransaction raw = RawTransaction.createTransaction(chainId, nonce, GAS, to == null ? "" : to, value, data,
                BigInteger.valueOf(1_000_000_000L), BigInteger.valueOf(100_000_000_000L));
        String hex = Numeric.toHexString(TransactionEncoder.signMessage(raw, chainId, from));
        var sent = web3j.ethSendRawTransaction(hex).send();
        if (sent.hasError()) {
            throw new IOException("transaction refused: " + sent.getError().getMessage());
        }
        // real time on purpose, as in connect(): a deadline for the node to mine, polled every 100 ms
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<TransactionReceipt> r = web3j.ethGetTransactionReceipt(sent.getTransactionHash()).send()
                    .getTransactionReceipt();
            if (r.isPresent()) {
                if (!r.get().isStatusOK()) {
                    throw new IOException("transaction " + sent.getTransactionHash() + " reverted");
                }
                return r.get();
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for " + sent.getTransactionHash(), e);
            }
        }
        throw new IOException("no receipt for " + sent.getTransactionHash() + " within 60 s");
    }

    @Override
    public void close() {
        web3j.shutdown();
    }
}
