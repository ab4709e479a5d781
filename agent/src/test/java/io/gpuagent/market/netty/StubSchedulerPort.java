package io.gpuagent.market.netty;

import io.gpuagent.market.CommandException;
import io.gpuagent.market.SchedulerPort;
import io.gpuagent.protocol.Message;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A scheduler port with knobs: records commands, answers from fixed data. */
final class StubSchedulerPort implements SchedulerPort {
    final List<Message.Request> commands = new CopyOnWriteArrayList<>();
    volatile int freeGpus = 8;
    volatile boolean draining;
    volatile String refuseLaunchWith;

    static Message.SessionInfo session(String id, String state) {
        return new Message.SessionInfo(id, "r", "renter", "img", state, List.of("GPU-0"), List.of(), "c", null, null, 0,
                null, null, null, false, null, null);
    }

    @Override
    public Message.Welcome welcome(Message.Hello hello, int version) {
        return new Message.Welcome(version, "test", "host-1", "1", List.of("offer"), true, null, null, null);
    }

    @Override
    public Message.Offer offer() {
        List<Message.OfferGpu> gpus = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            gpus.add(new Message.OfferGpu(i, "GPU-" + i, "H100", 81559, "0000:" + i + ":00.0", 5, 16, "9.0", "healthy",
                    i < freeGpus, "611"));
        }
        return new Message.Offer("host-1", "", "test", true, "550", "12.4", 2, 1024, 0, 0, draining, null, null, null, 60,
                3600, 0, 0, gpus, freeGpus, java.time.Instant.now().toString());
    }

    @Override
    public Message.SessionReply launch(Message.Launch launch) throws CommandException {
        if (refuseLaunchWith != null) {
            throw new CommandException(refuseLaunchWith, "refused by the stub");
        }
        commands.add(launch);
        return new Message.SessionReply(session(launch.session(), "requested"));
    }

    @Override
    public Message.SessionReply stop(Message.Stop stop) {
        commands.add(stop);
        return new Message.SessionReply(session(stop.session(), "stopping"));
    }

    @Override
    public Message.SessionReply status(Message.Status status) throws CommandException {
        if (!status.session().equals("s-1")) {
            throw new CommandException("unknown_session", "no session " + status.session());
        }
        return new Message.SessionReply(session("s-1", "running"));
    }

    @Override
    public Message.Sessions list() {
        return new Message.Sessions(List.of(session("s-1", "running")), draining);
    }

    @Override
    public Message.VoucherAck voucher(Message.Voucher voucher) throws CommandException {
        throw new CommandException("unavailable", "no vouchers");
    }

    @Override
    public boolean draining() {
        return draining;
    }
}
