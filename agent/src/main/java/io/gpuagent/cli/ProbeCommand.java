package io.gpuagent.cli;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.daemon.ExitCodes;
import io.gpuagent.gpu.DeviceCallGuard;
import io.gpuagent.gpu.GpuCallStats;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealth;
import io.gpuagent.gpu.GpuLostException;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.MigState;
import io.gpuagent.gpu.GpuUnavailableException;
import io.gpuagent.gpu.nvml.NvmlGpuDriver;
import io.gpuagent.util.Clock;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;

/** {@code gpu-agent probe}: what NVML reports about every GPU, as a table or JSON. */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = {"List this machine's NVIDIA GPUs as the driver reports them (like nvidia-smi -L), with "
                + "key telemetry and health, MIG state and instances, and the GPU topology matrix (like nvidia-smi "
                + "topo -m). Reads NVML directly; the daemon need not run.",
            "Exit codes: 0 ok, 3 bad config, 4 NVML library missing, 5 NVML init failed."})
final class ProbeCommand implements Callable<Integer> {
    @CommandLine.Mixin
    CommandSupport.ConfigOptions options = new CommandSupport.ConfigOptions();

    @CommandLine.Option(names = "--json", description = "print JSON for machines instead of the table")
    boolean json;

    @CommandLine.Option(names = "--nvml-library", paramLabel = "PATH",
            description = "libnvidia-ml.so.1 to load, relative to the working directory (default: gpu.nvml_library "
                    + "from the config, else the system's)")
    Path nvmlLibrary;

    @CommandLine.Option(names = "--timeout-ms", paramLabel = "MS",
            description = "deadline of each NVML call (default: gpu.call_timeout_ms from the config)")
    Long timeoutMs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        AgentConfig config;
        try {
            config = options.load();
        } catch (ConfigException e) {
            return CommandSupport.configError(err, e);
        }
        String lib = nvmlLibrary != null ? nvmlLibrary.toString() : config.gpu().nvmlLibrary();
        Duration timeout = Duration.ofMillis(timeoutMs != null ? timeoutMs : config.gpu().callTimeoutMs());
        NvmlGpuDriver driver;
        try {
            driver = NvmlGpuDriver.open(lib, Clock.SYSTEM);
        } catch (GpuUnavailableException e) {
            return CommandSupport.gpuUnavailable(err, e);
        }
        GpuCallStats stats = new GpuCallStats();
        GpuMonitor.Probe probe = GpuMonitor.probe(driver, Clock.SYSTEM, timeout, stats);
        List<CompletableFuture<DeviceCallGuard.Outcome<GpuSample>>> futures = new ArrayList<>();
        for (GpuDevice d : probe.inventory().gpus()) {
            futures.add(probe.guards().get(d.index()).submit("sample", () -> driver.sample(d.index()), timeout));
        }
        List<ProbeReport.Entry> entries = new ArrayList<>();
        List<GpuDevice> gpus = probe.inventory().gpus();
        // each GPU's MIG state on its own NVML thread, after its sample (one call at a time per GPU)
        List<CompletableFuture<DeviceCallGuard.Outcome<MigState>>> migs = new ArrayList<>();
        for (int i = 0; i < gpus.size(); i++) {
            int index = gpus.get(i).index();
            DeviceCallGuard guard = probe.guards().get(index);
            migs.add(futures.get(i).thenCompose(o -> guard.submit("mig", () -> driver.mig(index), timeout)));
        }
        for (int i = 0; i < gpus.size(); i++) {
            DeviceCallGuard.Outcome<GpuSample> o = futures.get(i).join();
            GpuSample sample = null;
            GpuHealth health = GpuHealth.HEALTHY;
            String reason = null;
            if (o instanceof DeviceCallGuard.Outcome.Done<GpuSample> done) {
                sample = done.value();
            } else if (o instanceof DeviceCallGuard.Outcome.Failed<GpuSample> f) {
                health = f.error() instanceof GpuLostException ? GpuHealth.LOST : GpuHealth.UNKNOWN;
                reason = f.error().getMessage();
            } else if (o instanceof DeviceCallGuard.Outcome.Hung<GpuSample> h) {
                health = GpuHealth.UNKNOWN;
                reason = h.reason();
            }
            DeviceCallGuard.Outcome<MigState> m = migs.get(i).join();
            entries.add(new ProbeReport.Entry(gpus.get(i), sample, health, reason,
                    m instanceof DeviceCallGuard.Outcome.Done<MigState> done ? done.value() : null, failure(m)));
        }
        GpuTopology topology = null;
        String topologyError = null;
        List<String> uuids = gpus.stream().map(GpuDevice::uuid).toList();
        if (!gpus.isEmpty()) {
            // every pair at once: on the first answering GPU's thread, with the same deadline
            DeviceCallGuard guard = probe.guards().get(gpus.get(0).index());
            DeviceCallGuard.Outcome<GpuTopology> t = guard.call("topology", () -> driver.topology(uuids), timeout);
            topology = t instanceof DeviceCallGuard.Outcome.Done<GpuTopology> done ? done.value() : null;
            topologyError = failure(t);
        }
        ProbeReport report = new ProbeReport(probe.inventory().driver(), entries, probe.unanswered(), topology,
                topologyError);
        out.print(json ? report.toJson() : report.toTable());
        out.flush();
        boolean hung = probe.guards().stream().anyMatch(DeviceCallGuard::isHung);
        probe.guards().forEach(DeviceCallGuard::close);
        if (!hung) {
            driver.close();
        }
        return ExitCodes.OK;
    }

    /** Why a guarded call gave no value, or null when it did. */
    private static String failure(DeviceCallGuard.Outcome<?> o) {
        if (o instanceof DeviceCallGuard.Outcome.Failed<?> f) {
            return f.error().getMessage();
        }
        if (o instanceof DeviceCallGuard.Outcome.Hung<?> h) {
            return h.reason();
        }
        return null;
    }
}
