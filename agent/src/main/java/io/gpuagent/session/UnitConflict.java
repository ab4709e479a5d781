package io.gpuagent.session;

/**
 * A unit a session holds that the machine's new layout, or a container found after a restart,
 * disagrees with. The allocator never takes a held unit away to resolve one: it keeps the hold,
 * reports the conflict, and the operator (or the session's end) settles it.
 *
 * @param uuid    the unit ({@code GPU-...} or {@code MIG-...})
 * @param session the session holding it, or that asked for it (adoption)
 * @param reason  what is wrong, for the log
 */
public record UnitConflict(String uuid, String session, String reason) {

    @Override
    public String toString() {
        return uuid + " (" + reason + ")";
    }
}
