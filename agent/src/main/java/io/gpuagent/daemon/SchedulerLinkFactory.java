package io.gpuagent.daemon;

import io.gpuagent.config.AgentConfig;
import io.gpuagent.config.ConfigException;
import io.gpuagent.config.HostPort;
import io.gpuagent.gpu.GpuMonitor;
import io.gpuagent.market.AgentSchedulerPort;
import io.gpuagent.market.EventBridge;
import io.gpuagent.market.MarketException;
import io.gpuagent.market.netty.MarketLink;
import io.gpuagent.market.streams.EngineStreams;
import io.gpuagent.market.streams.StreamLimits;
import io.gpuagent.market.streams.StreamService;
import io.gpuagent.market.streams.StreamStats;
import io.gpuagent.market.OfferBuilder;
import io.gpuagent.market.PaymentPort;
import io.gpuagent.session.SessionCore;
import io.gpuagent.util.Clock;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/** Builds the scheduler link from the configuration and hooks the agent's changes to its events. */
final class SchedulerLinkFactory {
    private SchedulerLinkFactory() {
    }

    /** The link's settings from the configuration. */
    static MarketLink.Settings settings(AgentConfig config) {
        AgentConfig.Market m = config.market();
        return new MarketLink.Settings(address("market.listen", m.listen()),
                address("market.dial", m.dial()), (int) m.maxFrameBytes(), m.handshakeTimeoutMs(), m.readTimeoutMs(),
                m.idleTimeoutMs(), m.messagesPerSecond(), (int) m.maxConnections(), (int) m.maxConnectionsPerAddress(),
                Duration.ofMillis(m.heartbeatIntervalMs()), Duration.ofMillis(m.offerIntervalMs()),
                Duration.ofMillis(m.reconnectInitialMs()), Duration.ofMillis(m.reconnectMaxMs()));
    }

    /** The link's settings and TLS contexts (MarketLink.prepareTls), which the daemon makes beside the sessions' start. */
    record Prepared(MarketLink.Settings settings, MarketLink.Tls tls) {
    }

    /** Resolves the addresses once (a dial-out host name is looked up here) and makes the TLS contexts. */
    static Prepared prepare(AgentConfig config, Clock clock) throws MarketException {
        MarketLink.Settings settings = settings(config);
        return new Prepared(settings, MarketLink.prepareTls(settings, config.market().plaintext() ? null : config.market(),
                clock));
    }

    /**
     * @param escrow the escrow's bridge, or null when escrow is disabled
     * @param prepared the link's settings and TLS contexts from {@link #prepare}
     */
    static MarketLink start(AgentConfig config, Prepared prepared, GpuMonitor gpus, SessionService sessions,
                            EscrowBridge escrow, Clock clock, String version, String hostId, String epoch)
            throws MarketException {
        PaymentPort payments = escrow == null ? PaymentPort.NONE : escrow;
        SessionCore manager = sessions == null ? null : sessions.manager();
        OfferBuilder offers = new OfferBuilder(config, gpus, gpus.health(),
                manager == null ? List::of : manager::list, manager == null ? () -> false : manager::draining, payments,
                version, hostId, clock);
        if (sessions != null) {
            offers.allocatableFrom(sessions::freeUnits).engineProblemFrom(manager::engineProblem);
        }
        AgentSchedulerPort port = new AgentSchedulerPort(manager, offers, payments, gpus.inventory(), version, hostId, epoch,
                config.offer().minDurationS());
        StreamService streams = sessions == null || !config.market().streams() ? null
                : streams(config, manager, payments);
        port.streams(streams != null).streamGrants(streams != null && streams.grantsRequired());
        MarketLink link = MarketLink.start(prepared.settings(), prepared.tls().server(), prepared.tls().client(), port,
                clock, streams);
        if (streams != null) {
            // a session that ends takes its streams with it (its container is going)
            sessions.addListener(s -> {
                if (s.state().terminal() || s.state() == io.gpuagent.session.SessionState.STOPPING) {
                    link.hub().sessionEnded(s.sessionId());
                }
            });
        }
        EventBridge bridge = new EventBridge(link.hub());
        if (sessions != null) {
            sessions.addListener(bridge);
        }
        gpus.health().addListener(bridge);
        if (escrow != null) {
            escrow.events(bridge);
        }
        return link;
    }

    /** Exec, tunnel and logs into running sessions, on the agent's Docker engine. */
    static StreamService streams(AgentConfig config, SessionCore manager, PaymentPort payments) {
        AgentConfig.Market m = config.market();
        StreamLimits limits = new StreamLimits((int) m.streamLimitPerConnection(), (int) m.streamLimitPerSession(),
                m.streamWindowBytes(), Duration.ofSeconds(m.streamIdleTimeoutS()), StreamLimits.DEFAULTS.linkBudget());
        return new StreamService(new EngineStreams(java.nio.file.Path.of(config.docker().socket()),
                Duration.ofMillis(config.docker().callTimeoutMs())), limits, new StreamStats(),
                id -> manager.get(id).map(v -> new StreamService.Target(v.sessionId(),
                        v.state() == io.gpuagent.session.SessionState.RUNNING,
                        v.state().name().toLowerCase(java.util.Locale.ROOT), v.containerId())),
                config.market().streamGrants().equals("required") ? grants(manager, payments) : StreamService.GrantCheck.NONE);
    }

    /** The owner requires the renter's grant for exec and tunnel: checked by the escrow (docs/streams.md). */
    private static StreamService.GrantCheck grants(SessionCore manager, PaymentPort payments) {
        return open -> {
            if (open.grant() == null) {
                throw new io.gpuagent.market.streams.StreamException("grant_required", "this host requires the renter's "
                        + "grant for " + open.kind() + " (market.stream_grants = \"required\"): send stream.open with a "
                        + "grant signed by the rental's voucher signer (docs/streams.md)");
            }
            String rental = manager.get(open.session()).map(io.gpuagent.session.SessionView::rentalId).orElseThrow(() ->
                    new io.gpuagent.market.streams.StreamException("unknown_session", "no session " + open.session()));
            try {
                payments.checkStreamGrant(open, rental);
            } catch (io.gpuagent.market.CommandException e) {
                throw new io.gpuagent.market.streams.StreamException(e.code(), e.getMessage());
            }
        };
    }

    private static InetSocketAddress address(String key, String value) {
        if (value.isEmpty()) {
            return null;
        }
        try {
            return HostPort.parse(key, value).socketAddress();
        } catch (ConfigException e) {
            throw new IllegalStateException("validated configuration has a bad " + key, e);
        }
    }
}
