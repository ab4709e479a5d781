package io.gpuagent.market;

import io.gpuagent.gpu.GpuDevice;
import io.gpuagent.gpu.GpuInventory;
import io.gpuagent.protocol.ErrorCode;
import io.gpuagent.protocol.Message;
import io.gpuagent.session.LaunchRequest;
import io.gpuagent.session.SessionException;
import io.gpuagent.session.SessionCore;
import io.gpuagent.session.SessionUsage;
import io.gpuagent.session.SessionView;

import java.math.BigInteger;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The scheduler's commands carried out on this agent: sessions through the {@link SessionCore}
 * (whose policy has the last word), offers from the {@link OfferBuilder}, rentals and vouchers
 * through the {@link PaymentPort}. Checks here are the market's own: the price must cover the
 * owner's price for the GPUs asked, the duration must be within the owner's bounds.
 */
public final class AgentSchedulerPort implements SchedulerPort {
    private final SessionCore sessions;
    private final OfferBuilder offers;
    private final PaymentPort payments;
    private final GpuInventory inventory;
    private final String agentVersion;
    private final String hostId;
    private final String epoch;
    private final long minDurationS;
    private volatile boolean streams;
    private volatile boolean streamGrants;

    /** @param sessions the session core, or null when this host rents nothing out (sessions.enabled = false) */
    public AgentSchedulerPort(SessionCore sessions, OfferBuilder offers, PaymentPort payments, GpuInventory inventory,
                              String agentVersion, String hostId, String epoch, long minDurationS) {
        this.sessions = sessions;
        this.offers = offers;
        this.payments = payments;
        this.inventory = inventory;
        this.agentVersion = agentVersion;
        this.hostId = hostId;
        this.epoch = epoch;
        this.minDurationS = minDurationS;
    }

    /** Offers streams (exec, tunnel, logs) to schedulers that ask for them in hello. */
    public AgentSchedulerPort streams(boolean offered) {
        this.streams = offered;
        return this;
    }

    /** Exec and tunnel need the renter's grant: welcome lists {@code stream_grants} beside {@code streams}. */
    public AgentSchedulerPort streamGrants(boolean required) {
        this.streamGrants = required;
        return this;
    }

    /** The text the agent signs for a hello's challenge (docs/protocol.md). */
    public static String challengeText(String hostId, String challenge) {
        return "gpu-agent hello\nhost: " + hostId + "\nchallenge: " + challenge.toLowerCase(Locale.ROOT);
    }

    @Override
    public Message.Welcome welcome(Message.Hello hello, int version) {
        String signed = null;
        String signature = null;
        if (hello.challenge() != null && payments.payoutAddress() != null) {
            signed = challengeText(hostId, hello.challenge());
            signature = payments.signChallenge(signed);
        }
        List<String> caps = sessions == null ? List.of("offer", "events") : payments.payoutAddress() == null
                ? List.of("offer", "events", "sessions") : List.of("offer", "events", "sessions", "vouchers");
        if (streams && sessions != null && hello.capabilities().contains("streams")) {
            caps = new java.util.ArrayList<>(caps);
            caps.add("streams");
            if (streamGrants) {
                caps.add("stream_grants");
            }
        }
        return new Message.Welcome(version, agentVersion, hostId, epoch, caps, inventory.driver().simulated(),
                payments.payoutAddress(), signed, signature, payments.chainId(), payments.escrowContract());
    }

    @Override
    public Message.Offer offer() {
        return offers.build();
    }

    private SessionCore sessions() throws CommandException {
        if (sessions == null) {
            throw new CommandException(ErrorCode.UNAVAILABLE.wire(), "this host rents nothing out (sessions.enabled = false)");
        }
        return sessions;
    }

    @Override
    public Message.SessionReply launch(Message.Launch l) throws CommandException {
        SessionCore m = sessions();
        Optional<SessionView> existing = m.get(l.session());
        if (existing.isEmpty()) {
            // a retried launch of a known session is answered by the session core (idempotent); new ones are checked here
            if (l.maxDurationS() < minDurationS) {
                throw new CommandException("duration_below_minimum", "max_duration_s " + l.maxDurationS()
                        + " is below this host's minimum rental of " + minDurationS + " s (offer.min_duration_s)");
            }
            checkPrice(l);
            payments.checkRental(l);
        }
        try {
            return new Message.SessionReply(info(m.launch(new LaunchRequest(l.session(), l.rental(), l.renter(),
                    l.gpus() == null ? 0 : l.gpus(), l.gpuUuids(), l.image(), l.command(), l.env(), l.ports(), l.sshKey(),
                    l.pricePerSecond(), l.maxDurationS(), l.migProfile(), l.topology()))));
        } catch (SessionException e) {
            throw new CommandException(e.code(), e.getMessage());
        }
    }

    /**
     * The agreed price must cover the owner's price of the units asked for: the named units (whole
     * GPUs or MIG instances), the cheapest instance of a MIG profile, or the cheapest priced whole
     * GPUs when counted.
     */
    private void checkPrice(Message.Launch l) throws CommandException {
        BigInteger asked = new BigInteger(l.pricePerSecond());
        BigInteger floor = BigInteger.ZERO;
        UnitCatalog catalog = offers.units();
        if (!l.gpuUuids().isEmpty()) {
            for (String uuid : l.gpuUuids()) {
                UnitCatalog.Unit u = catalog.byId(uuid).orElseThrow(() -> inventory.byUuid(uuid).isPresent()
                        ? new CommandException("gpu_mig_enabled", "GPU " + uuid
                                + " is in MIG mode: it is rented by its instances (the offer's units)")
                        : new CommandException("unknown_gpu", "no GPU or MIG instance " + uuid + " on this host"));
                floor = floor.add(u.price().orElseThrow(() -> new CommandException("gpu_not_offered",
                        u.kind().toUpperCase(java.util.Locale.ROOT) + " " + uuid + " (" + u.gpu().name()
                                + (u.whole() ? "" : " " + u.unit().migProfile()) + ") is not offered: the owner set no price for it")));
            }
        } else if (l.migProfile() != null) {
            List<UnitCatalog.Unit> slices = catalog.units().stream().filter(u -> !u.whole()).toList();
            if (slices.stream().noneMatch(u -> u.unit().migProfile().equalsIgnoreCase(l.migProfile()))) {
                throw new CommandException("mig_profile_unknown", "no MIG instance of profile " + l.migProfile()
                        + " on this host; its instances: " + (slices.isEmpty() ? "none"
                        : String.join(", ", new java.util.TreeSet<>(slices.stream().map(u -> u.unit().migProfile()).toList()))));
            }
            floor = slices.stream().filter(u -> u.unit().migProfile().equalsIgnoreCase(l.migProfile()))
                    .map(UnitCatalog.Unit::price).flatMap(Optional::stream).min(BigInteger::compareTo)
                    .orElseThrow(() -> new CommandException("gpu_not_offered", "no MIG instance of profile "
                            + l.migProfile() + " is offered on this host (see the offer's units)"));
        } else if (l.gpus() != null && l.gpus() > 0) {
            BigInteger cheapest = catalog.units().stream().filter(UnitCatalog.Unit::whole).map(UnitCatalog.Unit::price)
                    .flatMap(Optional::stream).min(BigInteger::compareTo).orElseThrow(() -> new CommandException(
                            "gpu_not_offered", "no whole GPU of this host is offered: the owner set no prices (offer.prices)"
                                    + " or every GPU is in MIG mode (ask for a mig_profile)"));
            floor = cheapest.multiply(BigInteger.valueOf(l.gpus()));
        }
        if (asked.compareTo(floor) < 0) {
            throw new CommandException("price_below_offer", "price_per_second " + asked + " is below the offer's "
                    + floor + " for these units");
        }
    }

    @Override
    public Message.SessionReply stop(Message.Stop s) throws CommandException {
        try {
            return new Message.SessionReply(info(sessions().stop(s.session(), s.reason())));
        } catch (SessionException e) {
            throw new CommandException(e.code(), e.getMessage());
        }
    }

    @Override
    public Message.SessionReply status(Message.Status s) throws CommandException {
        return new Message.SessionReply(info(sessions().get(s.session()).orElseThrow(() ->
                new CommandException("unknown_session", "no session " + s.session()))));
    }

    @Override
    public Message.Sessions list() {
        if (sessions == null) {
            return new Message.Sessions(List.of(), false);
        }
        return new Message.Sessions(sessions.list().stream().map(AgentSchedulerPort::info).toList(), sessions.draining());
    }

    @Override
    public Message.VoucherAck voucher(Message.Voucher v) throws CommandException {
        SessionView s = sessions().get(v.session()).orElseThrow(() ->
                new CommandException("unknown_session", "no session " + v.session()));
        if (!s.rentalId().equals(v.rental())) {
            throw new CommandException("voucher_wrong_rental", "session " + v.session() + " is paid by rental "
                    + s.rentalId() + ", not " + v.rental());
        }
        return payments.voucher(v);
    }

    @Override
    public boolean rentingUnavailable() {
        return sessions != null && sessions.engineProblem().isPresent();
    }

    @Override
    public boolean draining() {
        return sessions != null && sessions.draining();
    }

    /** A session's {@code session.usage} event: its billed seconds and usage now. */
    static Message.SessionUsage usageEvent(SessionView v) {
        return new Message.SessionUsage(v.sessionId(), v.rentalId(), v.billedSeconds(), usage(v.usage()));
    }

    /** The protocol's view of a session. */
    public static Message.SessionInfo info(SessionView v) {
        return new Message.SessionInfo(v.sessionId(), v.rentalId(), v.renter() == null || v.renter().isEmpty() ? null
                : v.renter(), v.image(),
                v.state().name().toLowerCase(Locale.ROOT), v.gpus(), v.hostPorts(), v.containerId(), v.startedAt(),
                v.finishedAt(), v.billedSeconds(), v.reason(), v.endReason() == null ? null : v.endReason().code(),
                v.exitCode(), v.oomKilled(), v.pullProgress(), usage(v.usage()));
    }

    private static Message.UsageInfo usage(SessionUsage u) {
        if (u == null) {
            return null;
        }
        return new Message.UsageInfo(u.gpuSeconds(), u.gpuUtilPercent(), u.gpuMemoryBytes(), u.cpuSeconds(), u.memoryBytes(),
                u.peakMemoryBytes(), u.netRxBytes(), u.netTxBytes(), u.diskBytes());
    }
}
