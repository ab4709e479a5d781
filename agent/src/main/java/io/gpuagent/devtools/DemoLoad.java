package io.gpuagent.devtools;

import io.gpuagent.escrow.Voucher;
import io.gpuagent.market.client.SchedulerConnection;
import io.gpuagent.protocol.Message;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The whole-load scenario of the benchmarks (issue 13), marketplace and renters at once: one
 * rental and one session ({@code sleep}) per GPU asked for, paid by a voucher every few billed
 * seconds, while every {@code session.usage} event is recorded with the time it arrived. The
 * report says, per session, how the live meter's billed seconds moved from one event to the next
 * (each +1 is the goal) and how regularly the events came.
 */
final class DemoLoad {
    private static final Duration CALL = Duration.ofSeconds(60);

    /** One received usage event. */
    record Tick(long receivedNanos, long billedSeconds) {
    }

    private final SchedulerConnection conn;
    private final DemoMarketplace chain;
    private final DemoMarketplace.Account renter;
    private final DemoMarketplace.Deployment d;
    private final Consumer<String> say;
    private final BlockingQueue<Message> events = new LinkedBlockingQueue<>();
    /** Session id -> rental id, price, seconds paid, the usage events received. */
    private final Map<String, Rented> sessions = new LinkedHashMap<>();

    private static final class Rented {
        final String rental;
        final BigInteger price;
        long paidSeconds;
        final List<Tick> ticks = new ArrayList<>();

        Rented(String rental, BigInteger price) {
            this.rental = rental;
            this.price = price;
        }
    }

    DemoLoad(SchedulerConnection conn, DemoMarketplace chain, DemoMarketplace.Account renter, DemoMarketplace.Deployment d,
             Consumer<String> say) {
        this.conn = conn;
        this.chain = chain;
        this.renter = renter;
        this.d = d;
        this.say = say;
        conn.onEvent(events::add);
    }

    /** Opens a rental per session on chain and launches it on a free GPU of its own. */
    void launch(int count, String image, long maxDurationSeconds) throws Exception {
        String payout = conn.call(new Message.Hello(List.of(1), "gpu-agent demo load", null, List.of("events")),
                Message.Welcome.class, CALL).payoutAddress();
        if (payout == null) {
            throw new IllegalStateException("the agent has no payout wallet: escrow.enabled is false in its config");
        }
        Message.Offer offer = conn.call(new Message.GetOffer(), Message.Offer.class, CALL);
        List<Message.OfferGpu> free = offer.gpus().stream().filter(Message.OfferGpu::free).limit(count).toList();
        if (free.size() < count) {
            throw new IllegalStateException("the agent offers " + free.size() + " free GPUs, " + count + " asked for");
        }
        String prefix = "load-" + Long.toString(System.currentTimeMillis(), 36) + "-";
        for (int i = 0; i < count; i++) {
            Message.OfferGpu gpu = free.get(i);
            BigInteger price = new BigInteger(gpu.pricePerSecond());
            String rental = chain.open(renter, d, payout, price.multiply(BigInteger.valueOf(maxDurationSeconds)), price,
                    maxDurationSeconds);
            String session = prefix + i;
            conn.call(new Message.Launch(session, rental, renter.getAddress(), null, List.of(gpu.uuid()), image,
                    List.of("sleep", Long.toString(maxDurationSeconds)), Map.of(), List.of(), null, price.toString(),
                    maxDurationSeconds), Message.SessionReply.class, CALL);
            sessions.put(session, new Rented(rental, price));
            say.accept("launched " + session + " on GPU " + gpu.index() + " (rental " + rental + ")");
        }
    }

    /**
     * Follows the usage events for {@code seconds}, paying each session with a cumulative voucher
     * whenever {@code voucherEvery} more seconds are billed.
     */
    void follow(long seconds, long voucherEvery) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            Message m = events.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (m instanceof Message.SessionUsage u && sessions.containsKey(u.session())) {
                Rented r = sessions.get(u.session());
                r.ticks.add(new Tick(System.nanoTime(), u.billedSeconds()));
                if (u.billedSeconds() - r.paidSeconds >= voucherEvery) {
                    pay(u.session(), r, u.billedSeconds());
                }
            } else if (m instanceof Message.SessionEnded e && sessions.containsKey(e.session().session())) {
                say.accept("session " + e.session().session() + " ended: " + e.session().endReason() + " ("
                        + e.session().reason() + ")");
            }
        }
    }

    private void pay(String session, Rented r, long seconds) throws Exception {
        BigInteger amount = r.price.multiply(BigInteger.valueOf(seconds));
        Voucher v = chain.voucher(renter, d, r.rental, seconds, amount);
        conn.call(new Message.Voucher(session, r.rental, seconds, amount.toString(), v.signature()),
                Message.VoucherAck.class, CALL);
        r.paidSeconds = seconds;
    }

    /** Stops every session of this load. */
    void stopAll() throws Exception {
        for (String s : sessions.keySet()) {
            conn.call(new Message.Stop(s, "load_done"), Message.SessionReply.class, CALL);
        }
    }

    /**
     * Writes every event (session, milliseconds since the first event, billed seconds) to
     * {@code csv} when given, and prints per session the steps of billed seconds between
     * consecutive events and the spread of their arrival intervals.
     */
    void report(PrintWriter out, Path csv) throws IOException {
        long first = sessions.values().stream().flatMap(r -> r.ticks.stream()).mapToLong(Tick::receivedNanos).min()
                .orElse(0);
        if (csv != null) {
            StringBuilder sb = new StringBuilder("session,ms,billed_seconds\n");
            sessions.forEach((id, r) -> r.ticks.forEach(t -> sb.append(id).append(',')
                    .append((t.receivedNanos() - first) / 1_000_000).append(',').append(t.billedSeconds()).append('\n')));
            Files.writeString(csv, sb);
        }
        long events = 0;
        long plusOne = 0;
        List<Long> intervals = new ArrayList<>();
        for (Map.Entry<String, Rented> e : sessions.entrySet()) {
            List<Tick> t = e.getValue().ticks;
            Map<Long, Integer> steps = new TreeMap<>();
            for (int i = 1; i < t.size(); i++) {
                steps.merge(t.get(i).billedSeconds() - t.get(i - 1).billedSeconds(), 1, Integer::sum);
                intervals.add((t.get(i).receivedNanos() - t.get(i - 1).receivedNanos()) / 1_000);
            }
            events += Math.max(0, t.size() - 1);
            plusOne += steps.getOrDefault(1L, 0);
            out.printf("load: %s: %d usage events, billed %s, steps of billed seconds between events %s%n", e.getKey(),
                    t.size(), t.isEmpty() ? "-" : t.get(0).billedSeconds() + ".." + t.get(t.size() - 1).billedSeconds(), steps);
        }
        intervals.sort(Long::compare);
        out.printf("load: %d of %d steps were +1; event intervals (ms) p1 %.1f, p50 %.1f, p99 %.1f, max %.1f%n", plusOne,
                events, pct(intervals, 0.01), pct(intervals, 0.50), pct(intervals, 0.99), pct(intervals, 1.0));
        out.flush();
    }

    private static double pct(List<Long> sortedMicros, double p) {
        if (sortedMicros.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.min(sortedMicros.size() - 1, Math.max(0, Math.ceil(p * sortedMicros.size()) - 1));
        return sortedMicros.get(i) / 1000.0;
    }
}
