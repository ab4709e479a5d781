package io.gpuagent.gpu;

import java.util.List;

/**
 * A MIG-capable GPU's MIG state.
 *
 * @param current   MIG mode now in effect
 * @param pending   MIG mode after the next GPU reset; differs from {@code current} when a change
 *                  waits for a reset (the GPU was in use, or the card needs one)
 * @param profiles  the GPU-instance profiles the card supports (empty when MIG is off)
 * @param instances the GPU instances that exist now, each with its compute instance
 */
public record MigState(boolean current, boolean pending, List<MigProfile> profiles, List<MigInstance> instances) {

    public MigState {
        profiles = List.copyOf(profiles);
        instances = List.copyOf(instances);
    }

    /** True when a mode change is waiting for a GPU reset. */
    public boolean resetPending() {
        return current != pending;
    }
}
