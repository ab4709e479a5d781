package io.gpuagent.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuHealthState;
import io.gpuagent.gpu.GpuReadings;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.util.Clock;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the operator endpoint serves, independent of HTTP: the Prometheus registry with the GPU,
 * agent and JVM collectors, the exposition (Prometheus text, or OpenMetrics when the scraper's
 * {@code Accept} asks for it), readiness, and the {@code /status} document for the CLI. Nothing
 * secret is ever part of it: only GPU facts, health, counters and versions.
 */
public final class MetricsEndpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The endpoint's own writers (text, OpenMetrics): shared bytes are kept for each. */
    private static final int FORMATS = 2;
    /** The JVM families are read at most this often (monotonic seconds: every scrape in one shares them). */
    private static final long JVM_READ_EVERY_NANOS = 1_000_000_000L;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter text = PrometheusTextFormatWriter.create();
    private final OpenMetricsTextFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();
    private final Exposition exposition = new Exposition(List.of(text, openMetrics));
    private final GpuMetricsCollector gpuFamilies;
    private final SharedFamilies<DcgmFamilies.Key> dcgm;
    /** The groups shared between scrapes, the DCGM families first; the JVM's last when there. */
    private final List<SharedFamilies<?>> shared = new ArrayList<>();
    private final GpuReadings gpus;
    private final Clock clock;
    private final String version;
    private final String hostname;
    private final Readiness readiness;
    private volatile io.gpuagent.session.ReadOnlySessions sessions;
    private volatile io.gpuagent.market.SchedulerLinkStats market;
    private volatile java.util.function.IntSupplier welcomed;
    private volatile java.util.function.Supplier<io.gpuagent.escrow.EscrowStats> escrow;
    private volatile String payoutAddress;

    public MetricsEndpoint(GpuReadings gpus, Clock clock, String version, String hostname, Readiness readiness,
                           boolean jvmMetrics) {
        this.gpus = gpus;
        this.clock = clock;
        this.version = version;
        this.hostname = hostname;
        this.readiness = readiness;
        gpuFamilies = new GpuMetricsCollector(gpus);
        DcgmFamilies dcgmFamilies = new DcgmFamilies(gpus, hostname);
        dcgm = new SharedFamilies<>(FORMATS, dcgmFamilies::key, dcgmFamilies::collect);
        shared.add(dcgm);
        // each group is one family or a few of adjacent names (Exposition copies contiguous groups)
        MetricSnapshots build = AgentMetricsCollector.buildInfo(version);
        shared.add(new SharedFamilies<>(FORMATS, view -> Boolean.TRUE, always -> build));
        shared.add(new SharedFamilies<>(FORMATS, view -> gpus.healthStates(), gpuFamilies::healthStates));
        shared.add(new SharedFamilies<>(FORMATS, view -> gpus.instanceHealthStates(), gpuFamilies::instanceHealthStates));
        shared.add(new SharedFamilies<>(FORMATS, GpuMetricsCollector::freshGpus, gpuFamilies::simulatedAndStale));
        registry.register(new AgentMetricsCollector(gpus));
        if (jvmMetrics) {
            // their own registry: the MXBean reads cost as much as all our families together (and
            // the thread collector's deadlock check is a safepoint), so once a second serves all
            PrometheusRegistry jvmRegistry = new PrometheusRegistry();
            JvmMetrics.builder().register(jvmRegistry);
            shared.add(new SharedFamilies<>(FORMATS, view -> Math.floorDiv(view.now, JVM_READ_EVERY_NANOS),
                    second -> jvmRegistry.scrape()));
        }
    }

    /** Adds the session and journal families, and sessions to {@code /status}. */
    public void addSessions(io.gpuagent.session.ReadOnlySessions manager, io.gpuagent.journal.JournalStats journal) {
        this.sessions = manager;
        registry.register(new SessionMetricsCollector(manager, journal));
    }

    /** Adds the scheduler link's families, and its connections to {@code /status}. */
    public void addMarket(io.gpuagent.market.SchedulerLinkStats stats, java.util.function.IntSupplier welcomed) {
        this.market = stats;
        this.welcomed = welcomed;
        registry.register(new MarketMetricsCollector(stats, welcomed));
    }

    /** Adds the streams' families ({@code gpu_agent_streams_*}). */
    public void addStreams(io.gpuagent.market.StreamLinkStats stats) {
        registry.register(new StreamMetricsCollector(stats));
    }

    /** Adds the escrow's families (earned, claimed, pending, claims by state, gas, voucher lag), and earnings to {@code /status}. */
    public void addEscrow(java.util.function.Supplier<io.gpuagent.escrow.EscrowStats> stats, String payoutAddress) {
        this.escrow = stats;
        this.payoutAddress = payoutAddress;
        registry.register(new EscrowMetricsCollector(stats));
    }

    /**
     * The registry, for later components' collectors: the families written fresh at every scrape.
     * The DCGM and JVM families are not in it; they are shared between scrapes (see {@link #scrape}).
     */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** The writer for a scraper's {@code Accept} header: OpenMetrics when asked, else Prometheus text 0.0.4. */
    public ExpositionFormatWriter writerFor(String accept) {
        return accept != null && openMetrics.accepts(accept) ? openMetrics : text;
    }

    /**
     * Writes one scrape in the format the scraper's {@code Accept} header asks for and returns its
     * content type (what the HTTP server needs, without seeing the Prometheus library).
     */
    public String scrape(String accept, OutputStream out) throws IOException {
        ExpositionFormatWriter writer = writerFor(accept);
        scrape(writer, out);
        return writer.getContentType();
    }

    /**
     * Writes one scrape in the format chosen by {@link #writerFor}. The DCGM families are built and
     * written once per state of the GPUs (the samples of one tick, which GPUs are fresh at the
     * scrape's time, their last XIDs) and format, and shared by every scrape that sees that state;
     * so are health states, staleness and build info, each by what it depends on; the JVM families
     * are read once a second; everything else (sample ages, XID counts, the registry's families) is
     * collected now. The bytes are those of client_java's writer over all the families
     * ({@link Exposition}). Safe to call from any number of threads at once.
     */
    public void scrape(ExpositionFormatWriter writer, OutputStream out) throws IOException {
        GpuView view = GpuView.read(gpus, clock.monotonicNanos());
        List<SharedFamilies.Entry<?>> entries = new ArrayList<>(shared.size());
        for (SharedFamilies<?> group : shared) {
            entries.add(group.at(view));
        }
        List<MetricSnapshot> fresh = gpuFamilies.perScrape(view);
        registry.scrape().forEach(fresh::add);
        exposition.write(writer, out, fresh, entries);
    }

    /** How many times the DCGM families were built (for the test that pins their sharing). */
    long dcgmBuilds() {
        return dcgm.builds();
    }

    public Optional<String> notReadyReason() {
        return readiness.notReadyReason();
    }

    /** The {@code /status} JSON document read by {@code gpu-agent status}. */
    public byte[] statusJson() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", version);
        root.put("hostname", hostname);
        Optional<String> notReady = readiness.notReadyReason();
        root.put("ready", notReady.isEmpty());
        root.put("notReadyReason", notReady.orElse(null));
        var driver = gpus.inventory().driver();
        root.put("simulated", driver.simulated());
        root.put("driverVersion", driver.driverVersion());
        root.put("nvmlVersion", driver.nvmlVersion());
        root.put("cudaDriverVersion", driver.cudaDriverVersion());
        var snap = gpus.samples();
        long now = clock.monotonicNanos();
        List<Map<String, Object>> list = new ArrayList<>();
        for (GpuDevice d : gpus.inventory().gpus()) {
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("index", d.index());
            g.put("name", d.name());
            g.put("uuid", d.uuid());
            g.put("pciBusId", d.pciBusId());
            g.put("memoryTotalBytes", d.memoryTotalBytes());
            GpuHealthState h = gpus.healthOf(d.uuid());
            g.put("health", h.health().name());
            g.put("healthReason", h.reason());
            g.put("healthSince", h.since().toString());
            g.put("lastXid", h.lastXid());
            GpuSample s = snap.samples().get(d.uuid());
            boolean fresh = s != null && now - s.monotonicNanos() <= 2 * gpus.sampleInterval().toNanos();
            g.put("stale", !fresh);
            if (s != null) {
                g.put("sampleAgeSeconds", (now - s.monotonicNanos()) / 1e9);
                g.put("gpuUtilPercent", s.gpuUtilPercent());
                g.put("memoryUsedBytes", s.memoryUsedBytes());
                g.put("temperatureC", s.temperatureC());
                g.put("powerWatts", s.powerMilliwatts() == null ? null : s.powerMilliwatts() / 1000.0);
                g.put("processes", s.processes().size());
            }
            list.add(g);
        }
        root.put("gpus", list);
        Map<String, Object> sampler = new LinkedHashMap<>();
        sampler.put("ticks", gpus.sampleTicks());
        sampler.put("intervalMs", gpus.sampleInterval().toMillis());
        sampler.put("lastTickDurationMs", gpus.lastTickDurationNanos() / 1e6);
        sampler.put("nvmlTimeouts", gpus.callStats().timeouts());
        root.put("sampler", sampler);
        io.gpuagent.session.ReadOnlySessions sm = sessions;
        if (sm != null) {
            root.put("draining", sm.draining());
            root.put("sessions", sm.list());
        }
        if (market != null) {
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            root.put("scheduler", m);
            m.put("connections", market.open().values().stream().mapToInt(Integer::intValue).sum());
            m.put("welcomed", welcomed.getAsInt());
            m.put("dialAttempts", market.dialAttempts());
        }
        if (escrow != null) {
            io.gpuagent.escrow.EscrowStats e = escrow.get();
            java.util.Map<String, Object> x = new java.util.LinkedHashMap<>();
            root.put("escrow", x);
            x.put("payoutAddress", payoutAddress);
            x.put("earned", e.earned().toString());
            x.put("claimed", e.claimed().toString());
            x.put("pending", e.pending().toString());
            x.put("lost", e.lost().toString());
            x.put("claimsUnsettled", e.claimsByState().entrySet().stream()
                    .filter(en -> !en.getKey().isTerminal()).mapToLong(java.util.Map.Entry::getValue).sum());
            x.put("rpcFailures", e.rpcFailures());
            x.put("lastError", e.lastError());
        }
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
