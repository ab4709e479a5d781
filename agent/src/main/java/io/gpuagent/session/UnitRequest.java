package io.gpuagent.session;

import java.util.List;
import java.util.Locale;

/**
 * What a launch asks the {@link GpuAllocator} for: exact units by UUID, one MIG instance of a
 * profile, or a number of whole GPUs with a wish about how they are connected. Build it with the
 * factories; {@link #from} maps a launch message's fields and rejects contradictions with a stable
 * code.
 *
 * @param kind       which of the three
 * @param uuids      {@link Kind#EXACT}: the units, {@code GPU-...} and/or {@code MIG-...}; else empty
 * @param migProfile {@link Kind#MIG_PROFILE}: the profile name, {@code 1g.10gb}; else null
 * @param count      {@link Kind#GPU_COUNT}: how many whole GPUs (0: a CPU-only session); else 0
 * @param topology   {@link Kind#GPU_COUNT}: how they must be connected; {@link TopologyWish#PREFER} otherwise
 */
public record UnitRequest(Kind kind, List<String> uuids, String migProfile, int count, TopologyWish topology) {

    /** The three ways to ask. */
    public enum Kind {
        EXACT,
        MIG_PROFILE,
        GPU_COUNT
    }

    /** How a set of several whole GPUs should be connected (docs/sessions.md, "Units and topology"). */
    public enum TopologyWish {
        /** The lowest-index free GPUs, whatever connects them (the agent's behaviour before topology). */
        ANY,
        /** The best-connected free set (the default). */
        PREFER,
        /** Only a set in which every pair is joined by NVLink (or an NVSwitch); refused otherwise. */
        NVLINK;

        /**
         * The wire name ({@code any}, {@code prefer}, {@code nvlink}); null or blank is {@link #PREFER}.
         *
         * @throws AllocationException {@code topology_unknown} for any other name
         */
        public static TopologyWish parse(String name) throws AllocationException {
            if (name == null || name.isBlank()) {
                return PREFER;
            }
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new AllocationException("topology_unknown", "topology '" + name
                        + "' is none of any, prefer, nvlink");
            }
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public UnitRequest {
        if (kind == null) {
            throw new IllegalArgumentException("a unit request needs a kind");
        }
        uuids = uuids == null ? List.of() : List.copyOf(uuids);
        topology = topology == null ? TopologyWish.PREFER : topology;
        boolean consistent = switch (kind) {
            case EXACT -> !uuids.isEmpty() && migProfile == null && count == 0;
            case MIG_PROFILE -> uuids.isEmpty() && migProfile != null && !migProfile.isBlank() && count == 0;
            case GPU_COUNT -> uuids.isEmpty() && migProfile == null && count >= 0;
        };
        if (!consistent) {
            throw new IllegalArgumentException("inconsistent " + kind + " request: uuids " + uuids + ", profile "
                    + migProfile + ", count " + count);
        }
    }

    /** Exactly these units (GPUs and/or MIG instances), all or nothing. */
    public static UnitRequest exact(List<String> uuids) {
        return new UnitRequest(Kind.EXACT, uuids, null, 0, TopologyWish.PREFER);
    }

    /** One free instance of a MIG profile. */
    public static UnitRequest migProfile(String profile) {
        return new UnitRequest(Kind.MIG_PROFILE, List.of(), profile, 0, TopologyWish.PREFER);
    }

    /** {@code count} whole GPUs connected as {@code topology} wishes. */
    public static UnitRequest gpus(int count, TopologyWish topology) {
        if (count < 0) {
            throw new IllegalArgumentException("a negative GPU count: " + count);
        }
        return new UnitRequest(Kind.GPU_COUNT, List.of(), null, count, topology);
    }

    /**
     * Maps a launch's fields: named units win (the count is then ignored, as it always was), else a
     * MIG profile (for one instance), else a count of whole GPUs with the topology wish.
     *
     * @param uuids    the units named, or null / empty
     * @param profile  a MIG profile, or null
     * @param count    whole GPUs wanted, or null (0)
     * @param topology {@code any}, {@code prefer}, {@code nvlink}, or null ({@code prefer})
     * @throws AllocationException {@code unit_request_invalid} for a profile with named units, with a
     *                             count other than 1, or a negative count; {@code topology_unknown}
     */
    public static UnitRequest from(List<String> uuids, String profile, Integer count, String topology)
            throws AllocationException {
        TopologyWish wish = TopologyWish.parse(topology);
        boolean named = uuids != null && !uuids.isEmpty();
        boolean sliced = profile != null && !profile.isBlank();
        if (named && sliced) {
            throw new AllocationException("unit_request_invalid", "a launch names units or a MIG profile, not both");
        }
        if (named) {
            if (uuids.stream().anyMatch(u -> u == null || u.isBlank())) {
                throw new AllocationException("unit_request_invalid", "a named unit is blank");
            }
            return exact(uuids);
        }
        if (sliced) {
            if (count != null && count != 0 && count != 1) {
                throw new AllocationException("unit_request_invalid", "a MIG profile gives one instance; asked for "
                        + count);
            }
            return migProfile(profile.trim());
        }
        int n = count == null ? 0 : count;
        if (n < 0) {
            throw new AllocationException("gpu_count", "asked for " + n + " GPUs");
        }
        return gpus(n, wish);
    }
}
