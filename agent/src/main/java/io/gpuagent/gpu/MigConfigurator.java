package io.gpuagent.gpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Makes the owner's MIG layouts ({@code gpu.mig_layouts}) real on the GPUs, at start (after the
 * running sessions are reconciled). A layout is a list of GPU-instance profiles ({@code 3g.40gb, 2g.20gb, ...});
 * an empty one means MIG off.
 *
 * <p>Rules, in order, per configured GPU:
 * <ol>
 *   <li>a GPU that a session holds (whole, or any of its instances) is left alone: renters' slices
 *       are never destroyed under them ({@link Action#HELD}; applied at a later start);</li>
 *   <li>MIG mode is switched when the layout asks for another; a change the driver can only make
 *       after a GPU reset leaves the GPU as it is and says so ({@link Action#RESET_PENDING}, with
 *       the command the owner runs);</li>
 *   <li>instances whose profiles already equal the layout (as a multiset) are kept, so their UUIDs,
 *       which renters' containers were handed, survive an agent restart ({@link Action#KEPT});</li>
 *   <li>otherwise every instance is destroyed and the layout is created, largest slices first (the
 *       placements of big profiles are the scarce ones) ({@link Action#APPLIED}).</li>
 * </ol>
 * A layout that names a GPU this machine does not have, a GPU twice, a GPU without MIG, a profile
 * the card does not offer, or more slices or memory than the card has is refused before anything
 * changes ({@link MigLayoutException}). With MIG off the driver lists the card's profiles only after
 * the switch: before it only the slices the names state are counted (at most 7); a layout the card
 * then refuses turns MIG off again and reports the GPU {@link Action#FAILED}. A driver refusal
 * part-way destroys what this call created and reports the GPU {@link Action#FAILED}. A GPU that did
 * not answer (left out at probe, or its MIG call failed or hung) is skipped with an error in the
 * log, never a failed start.
 */
public final class MigConfigurator {
    private static final Logger log = LoggerFactory.getLogger(MigConfigurator.class);

    /** What happened to one configured GPU. */
    public enum Action { KEPT, APPLIED, MIG_OFF, RESET_PENDING, HELD, FAILED }

    /** The outcome for one GPU, with a line for the log and {@code /status}. */
    public record Outcome(int index, String uuid, Action action, String detail) {
    }

    private final GpuMonitor gpus;

    public MigConfigurator(GpuMonitor gpus) {
        this.gpus = gpus;
    }

    /**
     * Checks every layout against the cards without changing anything. A GPU the agent cannot ask
     * now (left out of the inventory at probe, or its MIG call failed or hung) is not a
     * configuration error: it is skipped by {@link #apply} and logged, so one sick GPU never keeps
     * the agent from starting.
     *
     * @throws MigLayoutException naming the entry and what is wrong
     */
    public void validate(Map<String, List<String>> layouts) throws MigLayoutException {
        Map<String, String> seen = new java.util.HashMap<>();
        for (Map.Entry<String, List<String>> e : layouts.entrySet()) {
            Optional<GpuDevice> found = resolve(e.getKey());
            if (found.isEmpty()) {
                continue;
            }
            GpuDevice d = found.get();
            String before = seen.put(d.uuid(), e.getKey());
            if (before != null) {
                throw new MigLayoutException(e.getKey(), "\"" + before + "\" and \"" + e.getKey() + "\" are both GPU "
                        + d.index() + " (" + d.uuid() + "): give it one entry");
            }
            if (gpus.migUnreadable().contains(d.uuid())) {
                continue;
            }
            MigState st = gpus.migStates().get(d.uuid());
            if (st == null) {
                if (e.getValue().isEmpty()) {
                    continue; // "off" on a card without MIG: already true
                }
                throw new MigLayoutException(e.getKey(), "GPU " + d.index() + " (" + d.name() + ") has no MIG: "
                        + "remove it from gpu.mig_layouts (MIG exists on A100, A30, H100, H200 and newer data-center cards)");
            }
            if (e.getValue().isEmpty()) {
                continue;
            }
            if (!st.profiles().isEmpty()) {
                profilesFor(e.getKey(), d, st, e.getValue());
            } else {
                // MIG off: the card's profiles are known only after the switch; the slices the names
                // state can still be counted against the 7 that the largest MIG cards have
                int slices = e.getValue().stream().mapToInt(MigProfile::slicesOf).sum();
                if (slices > 7) {
                    throw new MigLayoutException(e.getKey(), "GPU " + d.index() + " (" + d.name() + "): "
                            + String.join(", ", e.getValue()) + " take " + slices + " compute slices; no MIG card has more than 7");
                }
            }
        }
    }

    /**
     * Applies the layouts to the GPUs no session holds and re-reads the MIG state.
     *
     * @param held GPU and MIG UUIDs that sessions hold now
     */
    public List<Outcome> apply(Map<String, List<String>> layouts, Set<String> held) throws MigLayoutException {
        validate(layouts);
        List<Outcome> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : layouts.entrySet()) {
            Optional<GpuDevice> found = resolve(e.getKey());
            if (found.isEmpty()) {
                log.error("gpu.mig_layouts: GPU {} did not answer when the agent started (see the probe's errors above); "
                        + "its layout is applied at the next start", e.getKey());
                continue;
            }
            GpuDevice d = found.get();
            MigState st = gpus.migStates().get(d.uuid());
            Outcome o;
            if (gpus.migUnreadable().contains(d.uuid())) {
                o = new Outcome(d.index(), d.uuid(), Action.FAILED, "its MIG state could not be read; the layout is "
                        + "applied at the next start");
            } else if (st == null) {
                continue;
            } else {
                o = applyOne(e.getKey(), d, st, e.getValue(), held);
            }
            switch (o.action()) {
                case FAILED, RESET_PENDING -> log.error("GPU {}: MIG layout not applied: {}", o.index(), o.detail());
                default -> log.info("GPU {}: MIG layout {}: {}", o.index(), o.action().name().toLowerCase(java.util.Locale.ROOT),
                        o.detail());
            }
            out.add(o);
        }
        gpus.refreshMig();
        return out;
    }

    private Outcome applyOne(String ref, GpuDevice d, MigState st, List<String> layout, Set<String> held) {
        int i = d.index();
        boolean busy = held.contains(d.uuid()) || st.instances().stream().anyMatch(m -> held.contains(m.uuid()));
        boolean wantMig = !layout.isEmpty();
        if (busy) {
            return new Outcome(i, d.uuid(), Action.HELD, "a session holds it; the layout is applied at a start when it is free");
        }
        try {
            boolean switchedOn = false;
            if (st.current() != wantMig || st.pending() != wantMig) {
                if (!wantMig) {
                    destroyAll(i, st);
                }
                boolean now = call(i, "set MIG mode", () -> gpus.driver().setMigMode(i, wantMig));
                if (!now) {
                    return new Outcome(i, d.uuid(), Action.RESET_PENDING, "MIG mode " + (wantMig ? "on" : "off")
                            + " waits for a GPU reset: stop what uses GPU " + i + ", then run `nvidia-smi -i " + i
                            + " -r` (or reboot) and restart the agent");
                }
                if (!wantMig) {
                    return new Outcome(i, d.uuid(), Action.MIG_OFF, "MIG mode off; the GPU is rented whole");
                }
                st = call(i, "mig", () -> gpus.driver().mig(i));
                switchedOn = true;
            }
            List<String> have = st.instances().stream().map(m -> String.valueOf(m.profile())).sorted().toList();
            if (have.equals(layout.stream().sorted().toList())) {
                return new Outcome(i, d.uuid(), Action.KEPT, "instances " + String.join(", ", layout) + " kept");
            }
            List<MigProfile> wanted;
            try {
                wanted = new ArrayList<>(profilesFor(ref, d, st, layout));
            } catch (MigLayoutException ex) { // MIG was just switched on: the profiles were not known before
                if (switchedOn) {
                    call(i, "set MIG mode", () -> gpus.driver().setMigMode(i, false)); // back as it was
                }
                return new Outcome(i, d.uuid(), Action.FAILED, ex.getMessage() + (switchedOn ? "; MIG is off again" : ""));
            }
            destroyAll(i, st);
            wanted.sort(Comparator.comparingInt(MigProfile::sliceCount).reversed());
            List<MigInstance> made = new ArrayList<>();
            for (MigProfile p : wanted) {
                try {
                    made.add(call(i, "create " + p.name(), () -> gpus.driver().createMigInstance(i, p.profileIndex(), null)));
                } catch (GpuException ex) {
                    for (MigInstance m : made) {
                        try {
                            call(i, "destroy", () -> {
                                gpus.driver().destroyMigInstance(i, m.gpuInstanceId());
                                return null;
                            });
                        } catch (GpuException ignored) {
                            log.warn("GPU {}: could not destroy instance {} after a failed layout: {}", i,
                                    m.gpuInstanceId(), ignored.getMessage());
                        }
                    }
                    return new Outcome(i, d.uuid(), Action.FAILED, "the driver refused " + p.name() + " ("
                            + ex.code() + ": " + ex.getMessage() + "); GPU " + i + " has no instances now: fix "
                            + "gpu.mig_layouts (see `gpu-agent probe` for the profiles and placements)");
                }
            }
            return new Outcome(i, d.uuid(), Action.APPLIED, "instances " + String.join(", ", layout) + " created");
        } catch (GpuException ex) {
            return new Outcome(i, d.uuid(), Action.FAILED, ex.code() + ": " + ex.getMessage());
        }
    }

    /** Destroys each GPU instance once (one made by hand may hold several compute instances, each listed). */
    private void destroyAll(int i, MigState st) throws GpuException {
        for (int gi : st.instances().stream().mapToInt(MigInstance::gpuInstanceId).distinct().toArray()) {
            call(i, "destroy", () -> {
                gpus.driver().destroyMigInstance(i, gi);
                return null;
            });
        }
    }

    private <T> T call(int index, String what, java.util.concurrent.Callable<T> c) throws GpuException {
        DeviceCallGuard.Outcome<T> o = gpus.call(index, what, c);
        if (o instanceof DeviceCallGuard.Outcome.Done<T> done) {
            return done.value();
        }
        if (o instanceof DeviceCallGuard.Outcome.Failed<T> f) {
            throw f.error();
        }
        throw new GpuException("NVML_HUNG", GpuMonitor.describe(o));
    }

    /**
     * The GPU an entry names; empty when it may be one that did not answer at probe (then it is not
     * the owner's mistake), an error when every GPU answered and none is it.
     */
    private Optional<GpuDevice> resolve(String ref) throws MigLayoutException {
        List<GpuDevice> all = gpus.inventory().gpus();
        Optional<GpuDevice> d = ref.startsWith("GPU-")
                ? all.stream().filter(g -> g.uuid().equalsIgnoreCase(ref)).findFirst()
                : all.stream().filter(g -> Integer.toString(g.index()).equals(ref)).findFirst();
        int machine = gpus.driver().deviceCount();
        boolean mayBeMissing = all.size() < machine && (ref.startsWith("GPU-") || Integer.parseInt(ref) < machine);
        if (d.isEmpty() && !mayBeMissing) {
            throw new MigLayoutException(ref, "no GPU " + ref + " on this machine (it has " + machine
                    + ": indexes 0.." + (machine - 1) + ", UUIDs in `gpu-agent probe`)");
        }
        return d;
    }

    /** The layout's profiles, checked against what the card offers and what fits. */
    private static List<MigProfile> profilesFor(String ref, GpuDevice d, MigState st, List<String> layout)
            throws MigLayoutException {
        if (st.profiles().isEmpty()) {
            throw new MigLayoutException(ref, "GPU " + d.index() + " reports no MIG profiles (MIG mode "
                    + (st.current() ? "on" : "off") + "); turn MIG on with a reset first");
        }
        List<MigProfile> out = new ArrayList<>();
        int slices = 0;
        long memory = 0;
        int full = st.profiles().stream().mapToInt(MigProfile::sliceCount).max().orElse(0);
        long fullMemory = st.profiles().stream().mapToLong(MigProfile::memoryBytes).max().orElse(0);
        for (String name : layout) {
            MigProfile p = st.profiles().stream().filter(x -> x.name().equalsIgnoreCase(name)).findFirst()
                    .orElseThrow(() -> new MigLayoutException(ref, "GPU " + d.index() + " (" + d.name() + ") has no MIG profile "
                            + name + "; it offers " + String.join(", ", st.profiles().stream().map(MigProfile::name).toList())));
            out.add(p);
            slices += p.sliceCount();
            memory += p.memoryBytes();
        }
        if (slices > full || memory > fullMemory) {
            throw new MigLayoutException(ref, "GPU " + d.index() + " (" + d.name() + "): " + String.join(", ", layout)
                    + " take " + slices + " compute slices and " + memory / (1024 * 1024 * 1024) + " GiB; the card has "
                    + full + " and " + fullMemory / (1024 * 1024 * 1024) + " GiB");
        }
        return out;
    }
}
