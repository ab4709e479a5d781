package io.gpuagent.cli;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.ConfigLoader;
import io.gpuagent.daemon.AgentVersion;
import io.gpuagent.daemon.Daemon;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.daemon.SessionService;
import io.gpuagent.daemon.logging.LogSetup;
import io.gpuagent.daemon.systemd.SystemdNotifier;
import io.gpuagent.gpu.GpuUnavailableException;
import io.gpuagent.metrics.http.MetricsServerException;
import io.gpuagent.gpu.nvml.NvmlGpuDriver;
import io.gpuagent.util.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code gpu-agent run}: the daemon. Runs until SIGTERM/SIGINT, which drains in reverse start
 * order. Under systemd it speaks {@code Type=notify}.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the agent: probe the GPUs, sample them every second, watch their health, serve "
                + "the metrics endpoint and, with sessions enabled, reconcile and meter renters' containers.",
            "Stops cleanly on SIGTERM (renters' containers keep running). Under systemd (Type=notify) it "
                + "reports READY=1 after reconciliation, STATUS= lines, and feeds the watchdog only while its "
                + "loops make progress."})
final class RunCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @CommandLine.Mixin
    CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        AgentConfig config;
        try {
            config = options.load();
        } catch (ConfigException e) {
            return CommandSupport.configError(spec.commandLine().getErr(), e);
        }
        LogSetup.configure(config.log().level(), config.log().format(), System.getenv());
        log.info("gpu-agent {} starting (pid {}); effective configuration:\n{}", AgentVersion.version(),
                ProcessHandle.current().pid(), ConfigLoader.describe(config).strip());
        installFatalHandler();

        Daemon daemon = new Daemon(config, Clock.SYSTEM, SystemdNotifier.fromEnvironment(), System.getenv(),
                lib -> NvmlGpuDriver.open(lib, Clock.SYSTEM));
        CountDownLatch stopRequested = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        // set only once a running daemon has drained after a stop request: a start that failed exits
        // with its own code (the hook must not turn it into 0, or systemd's Restart=on-failure and the
        // owner's scripts would take a failed start for a clean stop)
        java.util.concurrent.atomic.AtomicBoolean drained = new java.util.concurrent.atomic.AtomicBoolean();
        Thread hook = new Thread(() -> {
            stopRequested.countDown();
            try {
                // keep the JVM alive until the drain is done (or its timeout passed)
                if (stopped.await(config.shutdown().drainTimeoutMs() * 2 + 1000, TimeUnit.MILLISECONDS) && drained.get()) {
                    // a JVM ended by SIGTERM exits 143 however it drained; a finished drain is a clean stop
                    // (steps that hit their timeout were logged by name)
                    Runtime.getRuntime().halt(ExitCodes.OK);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "gpu-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            daemon.start();
        } catch (GpuUnavailableException e) {
            log.error(e.getMessage());
            stopped.countDown();
            return CommandSupport.gpuUnavailable(spec.commandLine().getErr(), e);
        } catch (SessionService.SessionStartException e) {
            log.error(e.getMessage());
            daemon.stop();
            stopped.countDown();
            spec.commandLine().getErr().println("gpu-agent: " + e.getMessage());
            // a limit that can never launch is the owner's configuration to fix, not a crash to restart
            return e.getCause() instanceof io.gpuagent.config.ConfigException ? ExitCodes.CONFIG : ExitCodes.FATAL;
        } catch (MetricsServerException | io.gpuagent.market.MarketException | Daemon.EscrowStartException
                 | io.gpuagent.gpu.MigLayoutException | io.gpuagent.daemon.StateDirectory.StateDirectoryException e) {
            log.error(e.getMessage());
            daemon.stop();
            stopped.countDown();
            spec.commandLine().getErr().println("gpu-agent: " + e.getMessage());
            return ExitCodes.CONFIG;
        }
        stopRequested.await();
        log.info("stop requested: draining");
        daemon.stop();
        drained.set(true);
        stopped.countDown();
        return ExitCodes.OK;
    }

    /** An uncaught exception on any agent thread is fatal: exit so that systemd restarts us. */
    private static void installFatalHandler() {
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            log.error("fatal: uncaught exception on thread {}; exiting with code {}", t.getName(), ExitCodes.FATAL, e);
            new Thread(() -> System.exit(ExitCodes.FATAL), "gpu-agent-fatal-exit").start();
        });
    }
}
