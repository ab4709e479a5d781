package io.gpuagent.market.netty;

import io.gpuagent.market.SchedulerEvents;
import io.gpuagent.market.SchedulerPort;
import io.gpuagent.protocol.Message;
import io.gpuagent.protocol.Outgoing;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's side of every scheduler connection that said hello, in both modes: pushes events
 * to all of them. The offer goes out at once when it changes (health, sessions, drain) and every
 * offer interval; running sessions' usage every second; the agent's heartbeat every heartbeat
 * interval. Usage and periodic offers are skipped for a connection whose write buffer is over
 * its high watermark (the next ones supersede them); state events never are.
 */
public final class SchedulerHub implements SchedulerEvents {
    private static final Logger log = LoggerFactory.getLogger(SchedulerHub.class);

    private final SchedulerPort port;
    private final MarketStats stats;
    private final Set<Channel> channels = ConcurrentHashMap.newKeySet();
    private final AtomicLong pingIds = new AtomicLong();
    private final Object offerLock = new Object();
    private Message.Offer lastOffer;
    private volatile boolean lastDraining;
    private volatile boolean lastUnavailable;

    public SchedulerHub(SchedulerPort port, MarketStats stats) {
        this.port = port;
        this.stats = stats;
    }

    /** Schedules the periodic work on {@code timer} (the caller owns and stops it). */
    public void start(ScheduledExecutorService timer, Duration heartbeat, Duration offerInterval) {
        lastDraining = port.draining();
        timer.scheduleAtFixedRate(guard(this::everySecond), 1, 1, TimeUnit.SECONDS);
        timer.scheduleAtFixedRate(guard(this::heartbeat), heartbeat.toMillis(), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
        timer.scheduleAtFixedRate(guard(() -> offer(true)), offerInterval.toMillis(), offerInterval.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private static Runnable guard(Runnable r) {
        return () -> {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.error("scheduler hub task failed", e);
            }
        };
    }

    void add(Channel ch) {
        channels.add(ch);
        Message.Offer offer = port.offer();
        send(ch, new Outgoing(offer, null), false);
    }

    void remove(Channel ch) {
        channels.remove(ch);
    }

    /** Connections that said hello. */
    /** Ends the streams into a session that is ending, on every connection (each on its event loop). */
    public void sessionEnded(String session) {
        for (Channel ch : channels) {
            io.gpuagent.market.streams.StreamMux mux = ch.pipeline().get(io.gpuagent.market.streams.StreamMux.class);
            if (mux != null) {
                try {
                    ch.eventLoop().execute(() -> mux.sessionEnded(session));
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    // the link is shutting down: its streams end with it
                }
            }
        }
    }

    public int size() {
        return channels.size();
    }

    /** Pushes an event to every connection; {@code droppable}: skipped where the peer is not reading. */
    @Override
    public void publish(Message.Event event, boolean droppable) {
        if (channels.isEmpty()) {
            return;
        }
        // written by the frame encoder straight from the record (MessageCodec.write): no tree per event
        Outgoing out = new Outgoing(event, null);
        for (Channel ch : channels) {
            send(ch, out, droppable);
        }
    }

    /** One task on each connection's event loop writes them all and flushes once. */
    @Override
    public void publishAll(List<? extends Message.Event> events, boolean droppable) {
        if (channels.isEmpty() || events.isEmpty()) {
            return;
        }
        List<Outgoing> out = events.stream().map(e -> new Outgoing(e, null)).toList();
        for (Channel ch : channels) {
            if (droppable && !ch.isWritable()) {
                continue;
            }
            out.forEach(o -> stats.sent(o.type()));
            try {
                ch.eventLoop().execute(() -> {
                    for (Outgoing o : out) {
                        ch.write(o);
                    }
                    ch.flush();
                });
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // the link is shutting down: nobody left to tell
            }
        }
    }

    private void send(Channel ch, Outgoing out, boolean droppable) {
        if (droppable && !ch.isWritable()) {
            return;
        }
        stats.sent(out.type());
        ch.writeAndFlush(out);
    }

    /** Recomputes the offer and pushes it when it changed (or always, when {@code force}). */
    @Override
    public void offer(boolean force) {
        if (channels.isEmpty()) {
            return; // nobody to tell; a scheduler that says hello gets the offer then
        }
        Message.Offer now = port.offer();
        synchronized (offerLock) {
            if (!force && lastOffer != null && sameOffer(lastOffer, now)) {
                return;
            }
            lastOffer = now;
        }
        publish(now, force);
    }

    private static boolean sameOffer(Message.Offer a, Message.Offer b) {
        return Objects.equals(withoutTime(a), withoutTime(b));
    }

    private static Message.Offer withoutTime(Message.Offer o) {
        return new Message.Offer(o.hostId(), o.region(), o.agentVersion(), o.simulated(), o.driverVersion(), o.cudaVersion(),
                o.cpuCores(), o.memoryMb(), o.diskGb(), o.bandwidthMbps(), o.draining(), o.payoutAddress(), o.token(),
                o.chainId(), o.minDurationS(), o.maxDurationS(), o.storagePricePerGbHour(), o.bandwidthPricePerGb(),
                o.gpus(), o.freeGpus(), null, o.units(), o.nvlinkGroups(), o.escrowContract(), o.unavailable());
    }

    /**
     * The drain flag, which changes through the control socket without an event of its own. The
     * offer is not rebuilt here: every other change to it (GPU health, sessions starting or ending)
     * pushes it at once through {@link #offer}, and the periodic forced offer covers the rest.
     * {@code session.usage} comes from the meter's own tick (EventBridge.onUsage), not from this
     * timer: two 1 Hz clocks drift, and usage read between ticks repeated or skipped billed seconds.
     */
    private void everySecond() {
        boolean unavailable = port.rentingUnavailable();
        if (unavailable != lastUnavailable) {
            lastUnavailable = unavailable;
            offer(false); // the engine went away or came back: the offer says whether renting is possible
        }
        boolean draining = port.draining();
        if (lastDraining != draining) {
            publish(new Message.Drain(draining, draining ? "the owner drained this host: no new sessions; running ones "
                    + "continue" : "the owner undrained this host"), false);
            offer(false);
        }
        lastDraining = draining;
    }

    private void heartbeat() {
        for (Channel ch : channels) {
            SchedulerHandler h = ch.pipeline().get(SchedulerHandler.class);
            if (h != null) {
                String id = "agent-hb-" + pingIds.incrementAndGet();
                ch.eventLoop().execute(() -> h.ping(ch, id));
            }
        }
    }

    /** Closes every connection (the agent is stopping). */
    public void closeAll() {
        channels.forEach(Channel::close);
    }
}
