package io.gpuagent.devtools;

import io.gpuagent.cli.CommandSupport;
import io.gpuagent.cli.Main;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.config.HostPort;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.escrow.WalletException;
import io.gpuagent.escrow.web3j.Keystore;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.market.netty.TlsContexts;
import io.gpuagent.market.tls.TlsSettings;
import io.gpuagent.util.OwnerOnlyFiles;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code gpu-agent demo}: a whole rental on a local chain, for README's first command.
 * {@code setup} deploys the test token and the escrow, makes the provider's wallet and TLS files
 * and writes the agent's config; {@code rent} plays the renter and the marketplace against the
 * running agent: open a rental, launch a session through the protocol, pay it with vouchers while
 * it runs, and read the payout, the platform's fee and the refund back from the chain.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"A whole rental on a local EVM chain (scripts/run.sh runs it): `setup` deploys the escrow and "
                + "writes the agent's config, `rent` plays renter and marketplace against the running agent.",
            "For the local demo chain only (ganache with its deterministic accounts): never point it at a real chain."},
        subcommands = {DemoCommand.Setup.class, DemoCommand.Rent.class, DemoLoadCommand.class, CommandLine.HelpCommand.class})
final class DemoCommand implements Runnable {
    /** ganache --wallet.deterministic account 0: deploys, takes the platform's fee. */
    static final String PLATFORM_KEY = "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d";
    /** ganache --wallet.deterministic account 1: the renter. */
    static final String RENTER_KEY = "0x6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1";
    static final int FEE_BPS = 1000;
    static final long SETTLE_WINDOW_S = 3600;
    /** The test token has 6 decimals, like USDC. */
    static final int DECIMALS = 6;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a demo command is required (setup, rent)");
    }

    /** Where the agent of a `demo setup` config listens for schedulers. */
    static InetSocketAddress agentAddress(AgentConfig c) throws ConfigException {
        return HostPort.parse("market.listen", c.market().listen()).dialable().socketAddress();
    }

    /** The scheduler's side of the mutual TLS that `demo setup` made, from the files next to the agent's CA. */
    static TlsContexts schedulerTls(AgentConfig c) throws Exception {
        Path tls = Path.of(c.market().tlsCa()).getParent();
        return TlsContexts.scheduler(TlsSettings.load(tls.resolve("scheduler.pem"), tls.resolve("scheduler-key.pem"),
                tls.resolve("ca.pem"), List.of(), 10_000, Instant.now()));
    }

    static String tokens(BigInteger baseUnits) {
        return new BigDecimal(baseUnits, DECIMALS).toPlainString() + " TUSD";
    }

    @Command(name = "setup", mixinStandardHelpOptions = true,
            description = "Deploy the test token and the escrow on the local chain (or reuse them), create the provider's "
                    + "wallet and development TLS files, fund the wallet with gas, write <dir>/agent.toml.")
    static final class Setup implements Callable<Integer> {
        @CommandLine.Option(names = "--rpc", defaultValue = "http://127.0.0.1:8545", paramLabel = "URL")
        String rpc;

        @CommandLine.Option(names = "--dir", required = true, paramLabel = "DIR", description = "where the demo's files go")
        Path dir;

        @CommandLine.Option(names = "--listen", defaultValue = "127.0.0.1:7443", paramLabel = "HOST:PORT",
                description = "the agent's market.listen (default: ${DEFAULT-VALUE})")
        String listen;

        @CommandLine.Option(names = "--state-dir", paramLabel = "DIR",
                description = "the agent's state_dir: its escrow store is cleared when the chain is new (old claims "
                        + "would name rentals that no longer exist)")
        Path stateDir;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            dir = dir.toAbsolutePath().normalize();
            Files.createDirectories(dir);
            Path config = dir.resolve("agent.toml");
            Path tls = dir.resolve("tls");
            Path wallet = dir.resolve("wallet");
            Path keystore = wallet.resolve("keystore.json");
            Path password = wallet.resolve("password");
            try (DemoMarketplace chain = DemoMarketplace.connect(rpc, Duration.ofSeconds(60))) {
                if (chain.ether(DemoMarketplace.account(PLATFORM_KEY).getAddress()).signum() == 0) {
                    err.println("gpu-agent: the chain at " + rpc + " does not fund ganache's deterministic accounts: the demo "
                            + "needs scripts/chain.sh start (ganache --wallet.deterministic), never a real chain");
                    return ExitCodes.CONFIG;
                }
                if (DevTlsFilesPresent.missing(tls)) {
                    java.io.StringWriter said = new java.io.StringWriter();
                    CommandLine tlsInit = Main.commandLine();
                    tlsInit.setOut(new PrintWriter(said));
                    tlsInit.setErr(new PrintWriter(said));
                    int rc = tlsInit.execute("tls", "init", "--dir", tls.toString());
                    if (rc != 0) {
                        err.print(said);
                        return rc;
                    }
                    out.println("demo: development TLS certificates for the agent and the scheduler in " + tls);
                }
                if (!Files.exists(keystore)) {
                    OwnerOnlyFiles.createDirectories(wallet);
                    Files.setPosixFilePermissions(wallet, OwnerOnlyFiles.DIRECTORY_MODE); // it may have been there
                    byte[] pw = new byte[24];
                    new SecureRandom().nextBytes(pw);
                    Files.deleteIfExists(password); // a password without its keystore, from a run that stopped half-way
                    OwnerOnlyFiles.writeNew(password, (HexFormat.of().formatHex(pw) + "\n").getBytes(StandardCharsets.UTF_8));
                    Keystore.create(keystore, HexFormat.of().formatHex(pw), true);
                }
                String provider = Keystore.address(keystore);
                Existing existing = Existing.read(config);
                DemoMarketplace.Deployment d;
                if (existing != null && existing.chainId == chain.chainId() && chain.hasCode(existing.escrow)
                        && chain.hasCode(existing.token)) {
                    d = new DemoMarketplace.Deployment(existing.token, existing.escrow);
                    out.println("demo: reusing the escrow " + d.escrow() + " and token " + d.token() + " on chain " + chain.chainId());
                } else {
                    d = chain.deploy(DemoMarketplace.account(PLATFORM_KEY), FEE_BPS, SETTLE_WINDOW_S);
                    out.println("demo: deployed the test token " + d.token() + " and the escrow " + d.escrow() + " (fee "
                            + FEE_BPS / 100 + " %) on chain " + chain.chainId());
                    if (stateDir != null) {
                        clearEscrowStore(stateDir.resolve("escrow"), out);
                    }
                }
                if (chain.ether(provider).compareTo(BigInteger.TEN.pow(18)) < 0) {
                    chain.fund(DemoMarketplace.account(PLATFORM_KEY), provider, BigInteger.TEN.pow(19));
                }
                out.println("demo: the provider's wallet " + provider + " (gas: " + new BigDecimal(chain.ether(provider), 18)
                        .stripTrailingZeros().toPlainString() + " ETH), keystore " + keystore);
                Files.writeString(config, config(chain.chainId(), d, tls, keystore, password), StandardCharsets.UTF_8);
                out.println("demo: agent config " + config);
                out.flush();
                return ExitCodes.OK;
            } catch (IOException | WalletException e) {
                err.println("gpu-agent: demo setup failed: " + e.getMessage());
                return ExitCodes.UNREACHABLE;
            }
        }

        private static void clearEscrowStore(Path store, PrintWriter out) throws IOException {
            if (!Files.isDirectory(store)) {
                return;
            }
            try (var files = Files.walk(store)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
            out.println("demo: a new chain: cleared the agent's escrow store " + store);
        }

        private String config(long chainId, DemoMarketplace.Deployment d, Path tls, Path keystore, Path password) {
            return """
                    # Written by `gpu-agent demo setup` for the local demo chain (scripts/run.sh). Not for production:
                    # the chain is a throwaway ganache, the CA is a development CA, prices are the defaults.
                    [market]
                    listen = "%s"
                    tls_cert = "%s"
                    tls_key = "%s"
                    tls_ca = "%s"

                    [sessions]
                    # small limits: the demo's container runs `sleep` on a machine that may have 2 CPUs
                    cpus_per_gpu = 1
                    memory_per_gpu_mb = 256
                    disk_per_gpu_gb = 1

                    [escrow]
                    enabled = true
                    rpc_url = "%s"
                    chain_id = %d
                    contract = "%s"
                    token = "%s"
                    keystore = "%s"
                    password_file = "%s"
                    min_priority_fee_gwei = 1
                    max_fee_gwei = 200
                    credit_limit_s = 30
                    poll_interval_ms = 500
                    """.formatted(listen, tls.resolve("agent.pem"), tls.resolve("agent-key.pem"), tls.resolve("ca.pem"), rpc,
                    chainId, d.escrow(), d.token(), keystore, password);
        }

        /** The deployment a previous setup wrote, if any. */
        private record Existing(long chainId, String escrow, String token) {
            static Existing read(Path config) {
                if (!Files.exists(config)) {
                    return null;
                }
                try {
                    AgentConfig c = ConfigLoader.load(config, Map.of(), List.of());
                    return new Existing(c.escrow().chainId(), c.escrow().contract(), c.escrow().token());
                } catch (ConfigException e) {
                    return null;
                }
            }
        }
    }

    /** Whether {@code gpu-agent tls init} has to run. */
    private static final class DevTlsFilesPresent {
        static boolean missing(Path dir) {
            return DevTlsFiles.existing(dir).size() != DevTlsFiles.ALL.size();
        }
    }

    @Command(name = "rent", mixinStandardHelpOptions = true,
            description = "Play renter and marketplace against the running agent: open a rental, launch a session over "
                    + "mutual TLS, pay it with vouchers while it runs, wait for the agent's claim, print the payout, the "
                    + "platform fee and the refund read back from the chain.")
    static final class Rent implements Callable<Integer> {
        @CommandLine.Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
                description = "the agent.toml `demo setup` wrote")
        Path config;

        @CommandLine.Option(names = "--set", paramLabel = "KEY=VALUE", description = "as given to the agent (repeatable)")
        List<String> sets = new java.util.ArrayList<>();

        @CommandLine.Option(names = "--image", defaultValue = "gpu-agent-test/busybox:1", paramLabel = "IMAGE")
        String image;

        @CommandLine.Option(names = "--seconds", defaultValue = "6", paramLabel = "N", description = "how long the container runs")
        int seconds;

        @CommandLine.Option(names = "--timeout", defaultValue = "120", paramLabel = "SECONDS")
        long timeoutSeconds;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private PrintWriter out;

        private void say(String s) {
            out.println("demo: " + s);
            out.flush();
        }

        @Override
        public Integer call() throws Exception {
            out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            AgentConfig c;
            try {
                c = ConfigLoader.load(config, System.getenv(), sets);
            } catch (ConfigException e) {
                return CommandSupport.configError(err, e);
            }
            InetSocketAddress agent = agentAddress(c);
            TlsContexts ctx = schedulerTls(c);
            try (DemoMarketplace chain = DemoMarketplace.connect(c.escrow().rpcUrl(), Duration.ofSeconds(30));
                 SchedulerClient client = new SchedulerClient(ctx);
                 SchedulerConnection conn = client.connect(agent)) {
                DemoRental rental = new DemoRental(conn, chain, DemoMarketplace.account(RENTER_KEY),
                        new DemoMarketplace.Deployment(c.escrow().token(), c.escrow().contract()), this::say);
                rental.hello(agent);
                rental.open();
                rental.launch(image, seconds);
                rental.followToTheClosingClaim(System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds));
                rental.settle(out);
                return ExitCodes.OK;
            } catch (DemoRental.Failure e) {
                err.println("gpu-agent: " + e.getMessage());
                return e.exitCode();
            } catch (SchedulerConnection.ErrorReply e) {
                err.println("gpu-agent: the agent refused: " + e.getMessage());
                return ExitCodes.REFUSED;
            }
        }
    }
}
