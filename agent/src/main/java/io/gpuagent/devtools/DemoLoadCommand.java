package io.gpuagent.devtools;

import io.gpuagent.cli.CommandSupport;
import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.market.client.SchedulerClient;
import io.gpuagent.market.client.SchedulerConnection;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gpu-agent demo load}: the benchmarks' whole load (scripts/bench-load.sh runs it). */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = {"Play marketplace and renters against the running agent of `demo setup`: a rental and a session "
                + "per GPU asked for, paid by vouchers, every session.usage event recorded; then a report of how the "
                + "live meter moved (each step +1 is the goal) and how regularly the events came.",
            "For the local demo chain only."})
final class DemoLoadCommand implements Callable<Integer> {
    @CommandLine.Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE",
            description = "the agent.toml `demo setup` wrote")
    Path config;

    @CommandLine.Option(names = "--set", paramLabel = "KEY=VALUE", description = "as given to the agent (repeatable)")
    List<String> sets = new java.util.ArrayList<>();

    @CommandLine.Option(names = "--sessions", defaultValue = "8", paramLabel = "N")
    int sessions;

    @CommandLine.Option(names = "--seconds", defaultValue = "90", paramLabel = "S", description = "how long to follow")
    long seconds;

    @CommandLine.Option(names = "--voucher-every", defaultValue = "5", paramLabel = "S",
            description = "a voucher per session whenever this many more seconds are billed")
    long voucherEvery;

    @CommandLine.Option(names = "--image", defaultValue = "gpu-agent-test/busybox:1", paramLabel = "IMAGE")
    String image;

    @CommandLine.Option(names = "--keep", description = "leave the sessions running at the end (their vouchers stop)")
    boolean keep;

    @CommandLine.Option(names = "--csv", paramLabel = "FILE", description = "every usage event: session, ms, billed seconds")
    Path csv;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        AgentConfig c;
        try {
            c = ConfigLoader.load(config, System.getenv(), sets);
        } catch (ConfigException e) {
            return CommandSupport.configError(spec.commandLine().getErr(), e);
        }
        try (DemoMarketplace chain = DemoMarketplace.connect(c.escrow().rpcUrl(), Duration.ofSeconds(30));
             SchedulerClient client = new SchedulerClient(DemoCommand.schedulerTls(c));
             SchedulerConnection conn = client.connect(DemoCommand.agentAddress(c))) {
            DemoLoad load = new DemoLoad(conn, chain, DemoMarketplace.account(DemoCommand.RENTER_KEY),
                    new DemoMarketplace.Deployment(c.escrow().token(), c.escrow().contract()), s -> {
                        out.println("load: " + s);
                        out.flush();
                    });
            load.launch(sessions, image, 3600);
            out.println("load: following for " + seconds + " s");
            out.flush();
            load.follow(seconds, voucherEvery);
            if (!keep) {
                load.stopAll();
            }
            load.report(out, csv);
            return ExitCodes.OK;
        } catch (SchedulerConnection.ErrorReply e) {
            spec.commandLine().getErr().println("gpu-agent: the agent refused: " + e.getMessage());
            return ExitCodes.REFUSED;
        }
    }
}
