package io.gpuagent.metrics;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuReadings;
import io.gpuagent.gpu.GpuSample;
import io.gpuagent.gpu.TelemetrySampler;

import java.util.List;

/**
 * The GPUs as one scrape sees them: every GPU's latest sample and whether it is fresh at the
 * scrape's time. Read once per scrape, so that the shared DCGM families and the per-scrape ones
 * ({@code gpu_agent_gpu_stale}, the sample ages) agree on which GPUs are fresh.
 *
 * <p>The freshness rule of the metrics: a sample is fresh while it is at most two sample intervals
 * old at the scrape's time. Staleness therefore depends on when the scrape
 * happens, not only on the sampler's snapshot: a hung GPU goes stale between two ticks.
 */
final class GpuView {
    /** The scrape's time (monotonic). */
    final long now;
    /** The inventory, in index order. */
    final List<GpuDevice> devices;
    private final GpuSample[] fresh;

    private GpuView(long now, List<GpuDevice> devices, GpuSample[] fresh) {
        this.now = now;
        this.devices = devices;
        this.fresh = fresh;
    }

    static GpuView read(GpuReadings gpus, long now) {
        TelemetrySampler.Snapshot snap = gpus.samples();
        long maxAge = 2 * gpus.sampleInterval().toNanos();
        List<GpuDevice> devices = gpus.inventory().gpus();
        GpuSample[] fresh = new GpuSample[devices.size()];
        for (int i = 0; i < fresh.length; i++) {
            GpuSample s = snap.samples().get(devices.get(i).uuid());
            fresh[i] = s != null && now - s.monotonicNanos() <= maxAge ? s : null;
        }
        return new GpuView(now, devices, fresh);
    }

    /** The i-th GPU's sample when fresh at the scrape's time, else null. */
    GpuSample freshSample(int i) {
        return fresh[i];
    }
}
