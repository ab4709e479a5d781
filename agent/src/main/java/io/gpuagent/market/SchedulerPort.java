package io.gpuagent.market;

import io.gpuagent.protocol.Message;

/**
 * What a scheduler can ask of this agent, whatever the connection mode. The handler calls the
 * read-only methods on the event loop and the others on the dispatch thread.
 */
public interface SchedulerPort {
    /** The answer to a hello that chose {@code version}: the agent's identity and the signed challenge. */
    Message.Welcome welcome(Message.Hello hello, int version);

    Message.Offer offer();

    Message.SessionReply launch(Message.Launch launch) throws CommandException;

    Message.SessionReply stop(Message.Stop stop) throws CommandException;

    Message.SessionReply status(Message.Status status) throws CommandException;

    Message.Sessions list();

    Message.VoucherAck voucher(Message.Voucher voucher) throws CommandException;


    /** Whether the host is drained (no new sessions). */
    boolean draining();

    /** Whether renting is unavailable now (the container engine does not answer): the offer says so. */
    default boolean rentingUnavailable() {
        return false;
    }
}
