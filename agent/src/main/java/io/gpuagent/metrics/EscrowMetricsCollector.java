package io.gpuagent.metrics;

import io.gpuagent.escrow.ClaimState;
import io.gpuagent.escrow.EscrowStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.math.BigInteger;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The escrow's families: what was earned (the highest vouchers), claimed on chain and still
 * pending, in token base units; claims by state; gas spent; how far vouchers lag. Amounts are
 * doubles (Prometheus has no integers): exact up to 2^53 base units, 9 billion USDC.
 */
final class EscrowMetricsCollector implements MultiCollector {
    private final Supplier<EscrowStats> stats;

    EscrowMetricsCollector(Supplier<EscrowStats> stats) {
        this.stats = stats;
    }

    private static GaugeSnapshot gauge(String name, String help, double v) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(v).build()).build();
    }

    private static double d(BigInteger v) {
        return v == null ? 0 : v.doubleValue();
    }

    @Override
    public MetricSnapshots collect() {
        EscrowStats s = stats.get();
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        out.metricSnapshot(gauge("gpu_agent_earned_base_units", "Sum of the highest renter vouchers held, in token base units",
                d(s.earned())));
        out.metricSnapshot(gauge("gpu_agent_claimed_base_units", "Sum claimed on chain (mined claims), in token base units",
                d(s.claimed())));
        out.metricSnapshot(gauge("gpu_agent_pending_base_units",
                "Earned but not yet claimed, over rentals still open, in token base units", d(s.pending())));
        out.metricSnapshot(gauge("gpu_agent_lost_base_units",
                "Voucher amounts the chain refused for good (rentals given up), in token base units", d(s.lost())));
        GaugeSnapshot.Builder claims = GaugeSnapshot.builder().name("gpu_agent_claims")
                .help("Payout claims by state (final: on chain past the finality rule)");
        for (ClaimState st : ClaimState.values()) {
            claims.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .labels(Labels.of("state", st.name().toLowerCase(Locale.ROOT)))
                    .value(s.claimsByState().getOrDefault(st, 0L)).build());
        }
        out.metricSnapshot(claims.build());
        out.metricSnapshot(CounterSnapshot.builder().name("gpu_agent_claim_gas_spent_wei")
                .help("Gas paid by mined and reverted claims, in wei")
                .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(d(s.gasSpentWei())).build()).build());
        out.metricSnapshot(gauge("gpu_agent_voucher_lag_seconds",
                "Longest time since a running rental's newest voucher (or its start, without one)", s.voucherLagSeconds()));
        out.metricSnapshot(gauge("gpu_agent_unpaid_seconds",
                "Over ended sessions: billed seconds no voucher covers", s.unpaidSeconds()));
        out.metricSnapshot(gauge("gpu_agent_escrow_rpc_failures",
                "Consecutive failed steps of the claim worker (0 while the chain's RPC answers)", s.rpcFailures()));
        return out.build();
    }
}
