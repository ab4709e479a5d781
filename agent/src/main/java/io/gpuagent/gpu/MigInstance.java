package io.gpuagent.gpu;

/**
 * One MIG slice a renter can hold: a GPU instance with its compute instance, as the driver reports
 * it. The agent rents a GPU instance whole (one compute instance spanning it).
 *
 * @param uuid              the MIG device's UUID, {@code MIG-xxxxxxxx-...} (what a container is handed)
 * @param parentUuid        the UUID of the GPU it lives on
 * @param parentIndex       that GPU's NVML index
 * @param gpuInstanceId     the GPU instance id (dcgm-exporter's {@code GPU_I_ID})
 * @param computeInstanceId the compute instance id inside it
 * @param profile           the profile name, {@code 1g.10gb} (dcgm-exporter's {@code GPU_I_PROFILE})
 * @param sliceCount        compute slices
 * @param memoryBytes       the instance's memory
 * @param placementStart    first memory slice of its placement
 * @param placementSize     memory slices it spans
 */
public record MigInstance(String uuid, String parentUuid, int parentIndex, int gpuInstanceId, int computeInstanceId,
                          String profile, int sliceCount, long memoryBytes, int placementStart, int placementSize) {

    public MigInstance {
        if (uuid == null || !uuid.startsWith("MIG-")) {
            throw new IllegalArgumentException("MIG instance " + gpuInstanceId + " on GPU " + parentIndex
                    + " has no MIG- UUID: " + uuid);
        }
    }
}
