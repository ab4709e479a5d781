package io.gpuagent.gpu.nvml;

import com.sun.jna.Function;
import io.gpuagent.gpu.GpuUnavailableException;

/**
 * Every NVML entry point the agent uses, resolved once at load with the versioned name first.
 * A null field means the driver lacks that function under every name (the feature is then
 * reported as not supported).
 */
final class NvmlFunctions {
    final Function init;
    final Function shutdown;
    final Function errorString;
    final Function systemGetDriverVersion;
    final Function systemGetNvmlVersion;
    final Function systemGetCudaDriverVersion;
    final Function deviceGetCount;
    final Function deviceGetHandleByIndex;
    final Function deviceGetName;
    final Function deviceGetUuid;
    final Function deviceGetSerial;
    final Function deviceGetPciInfo;
    final Function deviceGetMemoryInfoV2;
    final Function deviceGetMemoryInfo;
    final Function deviceGetCudaComputeCapability;
    final Function deviceGetArchitecture;
    final Function deviceGetBrand;
    final Function deviceGetMigMode;
    final Function deviceGetEccMode;
    final Function deviceGetPowerManagementLimit;
    final Function deviceGetPowerManagementDefaultLimit;
    final Function deviceGetPowerManagementLimitConstraints;
    final Function deviceGetMaxPcieLinkGeneration;
    final Function deviceGetMaxPcieLinkWidth;
    final Function deviceGetCurrPcieLinkGeneration;
    final Function deviceGetCurrPcieLinkWidth;
    final Function deviceGetMaxClockInfo;
    final Function deviceGetClockInfo;
    final Function deviceGetNumFans;
    final Function deviceGetMinorNumber;
    final Function deviceGetFanSpeed;
    final Function deviceGetUtilizationRates;
    final Function deviceGetTemperature;
    final Function deviceGetFieldValues;
    final Function deviceGetPowerUsage;
    final Function deviceGetTotalEnergyConsumption;
    final Function deviceGetPcieThroughput;
    final Function deviceGetPcieReplayCounter;
    final Function deviceGetClocksEventReasons;
    final Function deviceGetPerformanceState;
    final Function deviceGetTotalEccErrors;
    final Function deviceGetRetiredPages;
    final Function deviceGetRemappedRows;
    final Function deviceGetComputeRunningProcesses;
    /** The pre-R470 name, whose entries are the 16-byte {@code nvmlProcessInfo_v1_t}. */
    final Function deviceGetComputeRunningProcessesV1;
    final Function eventSetCreate;
    final Function eventSetFree;
    final Function eventSetWait;
    final Function deviceGetSupportedEventTypes;
    final Function deviceRegisterEvents;
    // MIG (R450+); all null on older drivers, which then have no MIG
    final Function deviceSetMigMode;
    final Function deviceGetGpuInstanceProfileInfoV;
    final Function deviceGetGpuInstanceProfileInfo;
    final Function deviceGetGpuInstancePossiblePlacements;
    final Function deviceGetGpuInstanceRemainingCapacity;
    final Function deviceCreateGpuInstance;
    final Function deviceCreateGpuInstanceWithPlacement;
    final Function deviceGetGpuInstances;
    final Function deviceGetGpuInstanceById;
    final Function gpuInstanceGetInfo;
    final Function gpuInstanceDestroy;
    final Function gpuInstanceGetComputeInstanceProfileInfo;
    final Function gpuInstanceCreateComputeInstance;
    final Function gpuInstanceGetComputeInstances;
    final Function computeInstanceDestroy;
    final Function computeInstanceGetInfo;
    final Function deviceGetMaxMigDeviceCount;
    final Function deviceGetMigDeviceHandleByIndex;
    final Function deviceGetGpuInstanceId;
    final Function deviceGetComputeInstanceId;
    // topology
    final Function deviceGetTopologyCommonAncestor;
    final Function deviceGetNvLinkState;
    final Function deviceGetNvLinkRemotePciInfo;
    final Function deviceGetNvLinkRemoteDeviceType;
    /** Exported only by gpu-agent's simulated NVML: its presence marks GPUs that must never be sold. */
    final Function simulatedMarker;

    NvmlFunctions(NvmlLibrary lib) throws GpuUnavailableException {
        init = lib.require("nvmlInit_v2", "nvmlInit");
        shutdown = lib.require("nvmlShutdown");
        deviceGetCount = lib.require("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
        deviceGetHandleByIndex = lib.require("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
        deviceGetUuid = lib.require("nvmlDeviceGetUUID");
        errorString = lib.resolve("nvmlErrorString");
        systemGetDriverVersion = lib.resolve("nvmlSystemGetDriverVersion");
        systemGetNvmlVersion = lib.resolve("nvmlSystemGetNVMLVersion");
        systemGetCudaDriverVersion = lib.resolve("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion");
        deviceGetName = lib.resolve("nvmlDeviceGetName");
        deviceGetSerial = lib.resolve("nvmlDeviceGetSerial");
        deviceGetPciInfo = lib.resolve("nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo");
        deviceGetMemoryInfoV2 = lib.resolve("nvmlDeviceGetMemoryInfo_v2");
        deviceGetMemoryInfo = lib.resolve("nvmlDeviceGetMemoryInfo");
        deviceGetCudaComputeCapability = lib.resolve("nvmlDeviceGetCudaComputeCapability");
        deviceGetArchitecture = lib.resolve("nvmlDeviceGetArchitecture");
        deviceGetBrand = lib.resolve("nvmlDeviceGetBrand");
        deviceGetMigMode = lib.resolve("nvmlDeviceGetMigMode");
        deviceGetEccMode = lib.resolve("nvmlDeviceGetEccMode");
        deviceGetPowerManagementLimit = lib.resolve("nvmlDeviceGetPowerManagementLimit");
        deviceGetPowerManagementDefaultLimit = lib.resolve("nvmlDeviceGetPowerManagementDefaultLimit");
        deviceGetPowerManagementLimitConstraints = lib.resolve("nvmlDeviceGetPowerManagementLimitConstraints");
        deviceGetMaxPcieLinkGeneration = lib.resolve("nvmlDeviceGetMaxPcieLinkGeneration");
        deviceGetMaxPcieLinkWidth = lib.resolve("nvmlDeviceGetMaxPcieLinkWidth");
        deviceGetCurrPcieLinkGeneration = lib.resolve("nvmlDeviceGetCurrPcieLinkGeneration");
        deviceGetCurrPcieLinkWidth = lib.resolve("nvmlDeviceGetCurrPcieLinkWidth");
        deviceGetMaxClockInfo = lib.resolve("nvmlDeviceGetMaxClockInfo");
        deviceGetClockInfo = lib.resolve("nvmlDeviceGetClockInfo");
        deviceGetNumFans = lib.resolve("nvmlDeviceGetNumFans");
        deviceGetMinorNumber = lib.resolve("nvmlDeviceGetMinorNumber");
        deviceGetFanSpeed = lib.resolve("nvmlDeviceGetFanSpeed");
        deviceGetUtilizationRates = lib.resolve("nvmlDeviceGetUtilizationRates");
        deviceGetTemperature = lib.resolve("nvmlDeviceGetTemperature");
        deviceGetFieldValues = lib.resolve("nvmlDeviceGetFieldValues");
        deviceGetPowerUsage = lib.resolve("nvmlDeviceGetPowerUsage");
        deviceGetTotalEnergyConsumption = lib.resolve("nvmlDeviceGetTotalEnergyConsumption");
        deviceGetPcieThroughput = lib.resolve("nvmlDeviceGetPcieThroughput");
        deviceGetPcieReplayCounter = lib.resolve("nvmlDeviceGetPcieReplayCounter");
        deviceGetClocksEventReasons = lib.resolve("nvmlDeviceGetCurrentClocksEventReasons",
                "nvmlDeviceGetCurrentClocksThrottleReasons");
        deviceGetPerformanceState = lib.resolve("nvmlDeviceGetPerformanceState");
        deviceGetTotalEccErrors = lib.resolve("nvmlDeviceGetTotalEccErrors");
        deviceGetRetiredPages = lib.resolve("nvmlDeviceGetRetiredPages");
        deviceGetRemappedRows = lib.resolve("nvmlDeviceGetRemappedRows");
        deviceGetComputeRunningProcesses = lib.resolve("nvmlDeviceGetComputeRunningProcesses_v3",
                "nvmlDeviceGetComputeRunningProcesses_v2");
        deviceGetComputeRunningProcessesV1 = lib.resolve("nvmlDeviceGetComputeRunningProcesses");
        eventSetCreate = lib.resolve("nvmlEventSetCreate");
        eventSetFree = lib.resolve("nvmlEventSetFree");
        eventSetWait = lib.resolve("nvmlEventSetWait_v2", "nvmlEventSetWait");
        deviceGetSupportedEventTypes = lib.resolve("nvmlDeviceGetSupportedEventTypes");
        deviceRegisterEvents = lib.resolve("nvmlDeviceRegisterEvents");
        simulatedMarker = lib.resolve("gpuAgentSimulatedNvml");
        deviceSetMigMode = lib.resolve("nvmlDeviceSetMigMode");
        deviceGetGpuInstanceProfileInfoV = lib.resolve("nvmlDeviceGetGpuInstanceProfileInfoV");
        deviceGetGpuInstanceProfileInfo = lib.resolve("nvmlDeviceGetGpuInstanceProfileInfo");
        deviceGetGpuInstancePossiblePlacements = lib.resolve("nvmlDeviceGetGpuInstancePossiblePlacements_v2");
        deviceGetGpuInstanceRemainingCapacity = lib.resolve("nvmlDeviceGetGpuInstanceRemainingCapacity");
        deviceCreateGpuInstance = lib.resolve("nvmlDeviceCreateGpuInstance");
        deviceCreateGpuInstanceWithPlacement = lib.resolve("nvmlDeviceCreateGpuInstanceWithPlacement");
        deviceGetGpuInstances = lib.resolve("nvmlDeviceGetGpuInstances");
        deviceGetGpuInstanceById = lib.resolve("nvmlDeviceGetGpuInstanceById");
        gpuInstanceGetInfo = lib.resolve("nvmlGpuInstanceGetInfo");
        gpuInstanceDestroy = lib.resolve("nvmlGpuInstanceDestroy");
        gpuInstanceGetComputeInstanceProfileInfo = lib.resolve("nvmlGpuInstanceGetComputeInstanceProfileInfo");
        gpuInstanceCreateComputeInstance = lib.resolve("nvmlGpuInstanceCreateComputeInstance");
        gpuInstanceGetComputeInstances = lib.resolve("nvmlGpuInstanceGetComputeInstances");
        computeInstanceDestroy = lib.resolve("nvmlComputeInstanceDestroy");
        computeInstanceGetInfo = lib.resolve("nvmlComputeInstanceGetInfo_v2", "nvmlComputeInstanceGetInfo");
        deviceGetMaxMigDeviceCount = lib.resolve("nvmlDeviceGetMaxMigDeviceCount");
        deviceGetMigDeviceHandleByIndex = lib.resolve("nvmlDeviceGetMigDeviceHandleByIndex");
        deviceGetGpuInstanceId = lib.resolve("nvmlDeviceGetGpuInstanceId");
        deviceGetComputeInstanceId = lib.resolve("nvmlDeviceGetComputeInstanceId");
        deviceGetTopologyCommonAncestor = lib.resolve("nvmlDeviceGetTopologyCommonAncestor");
        deviceGetNvLinkState = lib.resolve("nvmlDeviceGetNvLinkState");
        deviceGetNvLinkRemotePciInfo = lib.resolve("nvmlDeviceGetNvLinkRemotePciInfo_v2", "nvmlDeviceGetNvLinkRemotePciInfo");
        deviceGetNvLinkRemoteDeviceType = lib.resolve("nvmlDeviceGetNvLinkRemoteDeviceType");
    }
}
