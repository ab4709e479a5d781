package io.gpuagent.market;

import io.gpuagent.gpu.GpuHealthListener;
import io.gpuagent.gpu.GpuHealthState;
import io.gpuagent.protocol.Message;
import io.gpuagent.session.SessionListener;
import io.gpuagent.session.SessionView;

import java.util.List;
import java.util.Locale;

/**
 * Turns the agent's own changes into scheduler events: a session's state change becomes
 * {@code session.state} (and {@code session.ended} when terminal), a GPU's health change becomes
 * {@code gpu.health}; both may change the offer, which is re-sent at once when it did.
 */
public final class EventBridge implements SessionListener, GpuHealthListener {
    private final SchedulerEvents hub;

    public EventBridge(SchedulerEvents hub) {
        this.hub = hub;
    }

    @Override
    public void onChange(SessionView session) {
        Message.SessionInfo info = AgentSchedulerPort.info(session);
        hub.publish(new Message.SessionState(info), false);
        if (session.state().terminal()) {
            hub.publish(new Message.SessionEnded(info), false);
        }
        hub.offer(false);
    }

    /**
     * The live meter: one {@code session.usage} per metered session per tick, all of a tick in one
     * flush (droppable: the next supersedes them).
     */
    @Override
    public void onUsage(List<SessionView> metered) {
        hub.publishAll(metered.stream().map(AgentSchedulerPort::usageEvent).toList(), true);
    }

    @Override
    public void onHealthChange(GpuHealthState previous, GpuHealthState current) {
        hub.publish(new Message.GpuHealth(current.index(), current.uuid(), current.health().name().toLowerCase(Locale.ROOT),
                current.reason()), false);
        hub.offer(false);
    }

    /** A payout claim changed (the escrow's claim worker reports through the daemon). */
    public void onClaim(Message.Claim claim) {
        hub.publish(claim, false);
    }
}
