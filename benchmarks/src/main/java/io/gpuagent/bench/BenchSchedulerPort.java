package io.gpuagent.bench;

import io.gpuagent.market.CommandException;
import io.gpuagent.market.SchedulerPort;
import io.gpuagent.protocol.Message;

import java.util.ArrayList;
import java.util.List;

/**
 * A scheduler port answering from fixed data, so that the protocol benchmarks measure the link and
 * not the session layer (after the tests' StubSchedulerPort). {@code status} answers any session as
 * a running one with a realistic body; {@code usage} is empty, so that no event is pushed while a
 * load client counts responses.
 */
final class BenchSchedulerPort implements SchedulerPort {
    static final Message.UsageInfo USAGE = new Message.UsageInfo(7200, 97, 80L << 30, 1234.5, 12L << 30, 14L << 30,
            1_234_567, 7_654_321, 3L << 30);

    static Message.SessionInfo session(String id, String state) {
        return new Message.SessionInfo(id, "rental-0001", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "nvcr.io/nvidia/pytorch:24.05-py3", state, List.of("GPU-00000000-0000-0000-0000-000000000000",
                "GPU-00000000-0000-0000-0000-000000000001"), List.of(42000, 42001), "3f4e2a9c1b7d", "2026-11-27T08:00:00Z",
                null, 3600, null, null, null, false, null, USAGE);
    }

    @Override
    public Message.Welcome welcome(Message.Hello hello, int version) {
        return new Message.Welcome(version, "bench", "host-1", "1", List.of("offer", "sessions"), true, null, null, null);
    }

    @Override
    public Message.Offer offer() {
        List<Message.OfferGpu> gpus = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            gpus.add(new Message.OfferGpu(i, "GPU-" + i, "NVIDIA H100 80GB HBM3", 81559, "0000:" + i + ":00.0", 5, 16, "9.0",
                    "healthy", true, "611"));
        }
        // no generation time: the offer never changes, so the hub pushes nothing during a run
        return new Message.Offer("host-1", "eu", "bench", true, "550.54.15", "12.4", 64, 1 << 20, 2000, 10_000, false, null,
                null, null, 60, 86_400, 0, 0, gpus, 8, null);
    }

    @Override
    public Message.SessionReply launch(Message.Launch launch) {
        return new Message.SessionReply(session(launch.session(), "requested"));
    }

    @Override
    public Message.SessionReply stop(Message.Stop stop) {
        return new Message.SessionReply(session(stop.session(), "stopping"));
    }

    @Override
    public Message.SessionReply status(Message.Status status) {
        return new Message.SessionReply(session(status.session(), "running"));
    }

    @Override
    public Message.Sessions list() {
        return new Message.Sessions(List.of(session("s-1", "running")), false);
    }

    @Override
    public Message.VoucherAck voucher(Message.Voucher voucher) throws CommandException {
        throw new CommandException("unavailable", "no vouchers in the benchmark");
    }

    @Override
    public boolean draining() {
        return false;
    }
}
