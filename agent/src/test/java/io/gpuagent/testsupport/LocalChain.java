package io.gpuagent.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.awaitility.core.ConditionTimeoutException;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint16;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint64;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.EthFilter;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthLog;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

import static org.awaitility.Awaitility.await;

/**
 * A private ganache 7.9.2 (contracts/node_modules) on a free loopback port ({@link #start()} says
 * how), chain id 1337, with four funded accounts of known keys, and helpers to deploy TestToken +
 * GpuEscrow from the committed artifacts and to act as the renter (mint, approve, open,
 * requestClose) and as time (evm_increaseTime). Fails loudly with the fix when ganache is not
 * installed.
 */
public final class LocalChain implements AutoCloseable {
    public static final long CHAIN_ID = 1337;
    public static final Credentials PLATFORM = Credentials.create("0x" + "a1".repeat(32));
    public static final Credentials RENTER = Credentials.create("0x" + "a2".repeat(32));
    public static final Credentials PROVIDER = Credentials.create("0x" + "a3".repeat(32));
    public static final Credentials STRANGER = Credentials.create("0x" + "a4".repeat(32));
    public static final int FEE_BPS = 1000;
    public static final long SETTLE_WINDOW = 3600;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int port;
    private final Web3j web3j;
    private final Path log;

    private LocalChain(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.web3j = Web3j.build(new HttpService(url()));
    }

    public static Path ganache() {
        Path bin = SimNvml.repoRoot().resolve("contracts/node_modules/.bin/ganache");
        if (!Files.isExecutable(bin)) {
            throw new IllegalStateException("ganache is not installed at " + bin + ": run `npm ci --prefix contracts`"
                    + " (needs Node.js 20+) before the escrow integration tests");
        }
        return bin;
    }

    /**
     * Starts ganache on a free loopback port. ganache is told its port on the command line and
     * does not report one the kernel picked, so the port is chosen here and is free only when
     * chosen: another process may bind it first. ganache then exits failing to bind, and is started
     * again on a fresh port (three tries). The node that answers must be the one started here: its
     * network id ({@code net_version}) is made for this start, so a stranger on the port is never
     * taken for it.
     */
    public static LocalChain start() throws Exception {
        Path bin = ganache();
        for (int attempt = 1; ; attempt++) {
            int port = portFreeNow();
            long networkId = 1_000_000L + ThreadLocalRandom.current().nextLong(1_000_000_000L);
            List<String> cmd = new ArrayList<>(List.of(bin.toString(), "--chain.chainId", Long.toString(CHAIN_ID),
                    "--chain.networkId", Long.toString(networkId), "--server.host", "127.0.0.1", "--server.port",
                    Integer.toString(port), "--logging.quiet", "true", "--chain.hardfork", "shanghai"));
            for (Credentials c : List.of(PLATFORM, RENTER, PROVIDER, STRANGER)) {
                cmd.add("--wallet.accounts");
                cmd.add(Numeric.toHexStringWithPrefixZeroPadded(c.getEcKeyPair().getPrivateKey(), 64) + ",0x3635C9ADC5DEA00000");
            }
            Path log = Files.createTempFile("ganache-", ".log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            LocalChain chain = new LocalChain(p, port, log);
            try {
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                        .until(() -> !p.isAlive() || chain.answersAs(networkId));
            } catch (ConditionTimeoutException e) {
                String out = Files.readString(log);
                chain.close();
                throw new IllegalStateException("ganache did not answer on port " + port + " within 60 s: " + out, e);
            }
            if (p.isAlive()) {
                return chain;
            }
            String out = Files.readString(log);
            chain.close();
            boolean portTaken = out.contains("EADDRINUSE") || out.toLowerCase(java.util.Locale.ROOT).contains("address already in use");
            if (!portTaken || attempt == 3) {
                throw new IllegalStateException("ganache did not start on port " + port + " (attempt " + attempt + "): " + out);
            }
        }
    }

    /** A loopback port nobody listens on at this moment (see {@link #start()} for why that is not enough). */
    private static int portFreeNow() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Whether the node on our port is this one: chain id 1337 and the network id given at its start. */
    private boolean answersAs(long networkId) {
        try {
            return web3j.ethChainId().send().getChainId().longValue() == CHAIN_ID
                    && Long.toString(networkId).equals(web3j.netVersion().send().getNetVersion());
        } catch (IOException | RuntimeException notYet) {
            return false;
        }
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Web3j web3j() {
        return web3j;
    }

    // ------------------------------------------------------------------ contracts

    /** A deployed pair: the token and the escrow. */
    public record Deployment(String token, String escrow) {
    }

    private static JsonNode artifact(String name) throws IOException {
        try (InputStream in = LocalChain.class.getResourceAsStream("/io/gpuagent/escrow/" + name + ".json")) {
            if (in == null) {
                throw new IllegalStateException("artifact " + name + ".json missing from the classpath (io/gpuagent/escrow)");
            }
            return JSON.readTree(in);
        }
    }

    public Deployment deploy() throws Exception {
        String token = create(PLATFORM, artifact("TestToken").get("bytecode").asText(), "");
        String args = FunctionEncoder.encodeConstructor(List.of(new Address(token), new Address(PLATFORM.getAddress()),
                new Uint16(FEE_BPS), new Uint64(SETTLE_WINDOW)));
        String escrow = create(PLATFORM, artifact("GpuEscrow").get("bytecode").asText(), args);
        return new Deployment(token, escrow);
    }

    private String create(Credentials from, String bytecode, String args) throws Exception {
        TransactionReceipt r = sendTx(from, null, (bytecode.startsWith("0x") ? bytecode : "0x" + bytecode) + args);
        return r.getContractAddress();
    }

    /** Sends a type-2 transaction and waits for its receipt (ganache mines at once); throws when it reverted. */
    public TransactionReceipt sendTx(Credentials from, String to, String data) throws Exception {
        BigInteger nonce = web3j.ethGetTransactionCount(from.getAddress(), DefaultBlockParameterName.PENDING).send().getTransactionCount();
        return sendTx(from, to, data, nonce.longValueExact());
    }

    public TransactionReceipt sendTx(Credentials from, String to, String data, long nonce) throws Exception {
        RawTransaction raw = RawTransaction.createTransaction(CHAIN_ID, BigInteger.valueOf(nonce), BigInteger.valueOf(6_000_000),
                to == null ? "" : to, BigInteger.ZERO, data, BigInteger.valueOf(1_000_000_000L), BigInteger.valueOf(100_000_000_000L));
        String hex = Numeric.toHexString(TransactionEncoder.signMessage(raw, CHAIN_ID, from));
        var sent = web3j.ethSendRawTransaction(hex).send();
        if (sent.hasError()) {
            throw new IllegalStateException("transaction refused: " + sent.getError().getMessage());
        }
        TransactionReceipt r = receipt(sent.getTransactionHash()).orElseThrow(() -> new IllegalStateException("no receipt"));
        if (!r.isStatusOK()) {
            throw new IllegalStateException("transaction reverted: " + r.getRevertReason() + " " + r);
        }
        return r;
    }

    public Optional<TransactionReceipt> receipt(String hash) throws IOException {
        return web3j.ethGetTransactionReceipt(hash).send().getTransactionReceipt();
    }

    /** Mints {@code deposit} to the renter, approves the escrow and opens a rental; returns its id. */
    public String open(Deployment d, String provider, BigInteger deposit, BigInteger rate, long maxDuration, String voucherSigner)
            throws Exception {
        sendTx(RENTER, d.token(), FunctionEncoder.encode(new Function("mint", List.of(new Address(RENTER.getAddress()),
                new Uint256(deposit)), List.of())));
        sendTx(RENTER, d.token(), FunctionEncoder.encode(new Function("approve", List.of(new Address(d.escrow()),
                new Uint256(deposit)), List.of())));
        TransactionReceipt r = sendTx(RENTER, d.escrow(), FunctionEncoder.encode(new Function("open", List.of(
                new Address(provider), new Uint256(deposit), new Uint256(rate), new Uint64(maxDuration),
                new Address(voucherSigner)), List.of())));
        String topic = Hash.sha3String("RentalOpened(bytes32,address,address,uint256,uint256,uint64,address,uint16,uint64)");
        return r.getLogs().stream().filter(l -> l.getTopics().get(0).equals(topic)).findFirst().orElseThrow()
                .getTopics().get(1);
    }

    public void requestClose(Deployment d, String rentalId) throws Exception {
        sendTx(RENTER, d.escrow(), FunctionEncoder.encode(new Function("requestClose",
                List.of(new Bytes32(Numeric.hexStringToByteArray(rentalId))), List.of())));
    }

    /** Moves chain time forward and mines a block with the new time. */
    public void advanceTime(long seconds) throws IOException {
        rpc("evm_increaseTime", seconds);
        rpc("evm_mine");
    }

    private void rpc(String method, Object... params) throws IOException {
        var r = new org.web3j.protocol.core.Request<>(method, List.of(params), new HttpService(url()),
                org.web3j.protocol.core.methods.response.VoidResponse.class).send();
        if (r.hasError()) {
            throw new IOException(method + ": " + r.getError().getMessage());
        }
    }

    @SuppressWarnings("rawtypes")
    public List<Type> call(String to, Function f) throws IOException {
        String out = web3j.ethCall(Transaction.createEthCallTransaction(PLATFORM.getAddress(), to, FunctionEncoder.encode(f)),
                DefaultBlockParameterName.LATEST).send().getValue();
        return FunctionReturnDecoder.decode(out, f.getOutputParameters());
    }

    public BigInteger balanceOf(Deployment d, String account) throws IOException {
        return (BigInteger) call(d.token(), new Function("balanceOf", List.of(new Address(account)),
                List.of(new TypeReference<Uint256>() { }))).get(0).getValue();
    }

    public BigInteger withdrawable(Deployment d, String account) throws IOException {
        return (BigInteger) call(d.escrow(), new Function("withdrawable", List.of(new Address(account)),
                List.of(new TypeReference<Uint256>() { }))).get(0).getValue();
    }

    public byte[] voucherDigest(Deployment d, String rentalId, long seconds, BigInteger amount) throws IOException {
        return (byte[]) call(d.escrow(), new Function("voucherDigest", List.of(new Bytes32(Numeric.hexStringToByteArray(rentalId)),
                new Uint64(seconds), new Uint256(amount)), List.of(new TypeReference<Bytes32>() { }))).get(0).getValue();
    }

    /** Claimed events of the escrow for {@code rentalId}. */
    public List<Log> claimedEvents(Deployment d, String rentalId) throws IOException {
        EthFilter f = new EthFilter(DefaultBlockParameterName.EARLIEST, DefaultBlockParameterName.LATEST, d.escrow());
        f.addSingleTopic(Hash.sha3String("Claimed(bytes32,address,uint64,uint256,uint256,uint256)"));
        f.addSingleTopic(rentalId);
        List<Log> out = new ArrayList<>();
        for (EthLog.LogResult<?> r : web3j.ethGetLogs(f).send().getLogs()) {
            out.add((Log) r.get());
        }
        return out;
    }

    @Override
    public void close() {
        web3j.shutdown();
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(log);
        } catch (InterruptedException | IOException e) {
            process.destroyForcibly();
        }
    }
}
