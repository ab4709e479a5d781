package io.gpuagent.metering;

import java.time.Duration;
import java.time.Instant;

/**
 * How many seconds a session's container is billed, from the container runtime's own start and
 * finish times (Docker's {@code State.StartedAt} / {@code State.FinishedAt}), never from the
 * agent's meter, so that an agent restart neither loses nor adds time. The market bills per second
 * with a one-second minimum unit:
 * <ul>
 *   <li>the run time {@code finishedAt - startedAt} is rounded <b>up</b> to whole seconds
 *       (10.000 s bills 10, 10.001 s bills 11, 0.2 s bills 1);</li>
 *   <li>a container that started bills at least 1 s, even for a zero-length run;</li>
 *   <li>a container that never started ({@code startedAt} absent or Docker's zero time
 *       {@code 0001-01-01T00:00:00Z}) bills 0 ({@link Basis#NOT_STARTED});</li>
 *   <li>a finish before the start (clock trouble on the host) bills 0 and is reported as
 *       {@link Basis#CLOCK_ANOMALY}, for the owner to look at, rather than guessing;</li>
 *   <li>a container still running ({@code finishedAt} absent or the zero time) is billed up to
 *       {@code now} by the same rule ({@link Basis#RUNNING}); {@code now} before the start is a
 *       clock anomaly too.</li>
 * </ul>
 */
public final class BillingRule {
    /** Docker's zero time, which it reports for {@code StartedAt}/{@code FinishedAt} that did not happen. */
    public static final Instant DOCKER_ZERO_TIME = Instant.parse("0001-01-01T00:00:00Z");

    /** Why a bill is what it is. */
    public enum Basis {
        /** Ran from start to finish. */
        FINISHED,
        /** Still running: billed up to now. */
        RUNNING,
        /** Never started: nothing to bill. */
        NOT_STARTED,
        /** The end is before the start: billed 0 and reported. */
        CLOCK_ANOMALY
    }

    /**
     * @param seconds whole seconds to bill
     * @param basis   which case of the rule applied
     * @param ran     the measured run time (negative for a clock anomaly, zero when not started)
     */
    public record BilledTime(long seconds, Basis basis, Duration ran) {
    }

    private BillingRule() {
    }

    /**
     * Applies the rule.
     *
     * @param startedAt  the runtime's start time, or null / {@link #DOCKER_ZERO_TIME} if it never started
     * @param finishedAt the runtime's finish time, or null / {@link #DOCKER_ZERO_TIME} while it runs
     * @param now        the wall clock now, used only while it runs
     */
    public static BilledTime billedSeconds(Instant startedAt, Instant finishedAt, Instant now) {
        if (absent(startedAt)) {
            return new BilledTime(0, Basis.NOT_STARTED, Duration.ZERO);
        }
        boolean running = absent(finishedAt);
        Duration ran = Duration.between(startedAt, running ? now : finishedAt);
        if (ran.isNegative()) {
            return new BilledTime(0, Basis.CLOCK_ANOMALY, ran);
        }
        long seconds = ran.getSeconds() + (ran.getNano() > 0 ? 1 : 0);
        return new BilledTime(Math.max(1, seconds), running ? Basis.RUNNING : Basis.FINISHED, ran);
    }

    private static boolean absent(Instant t) {
        return t == null || !t.isAfter(DOCKER_ZERO_TIME);
    }
}
