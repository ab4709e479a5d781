package io.gpuagent.gpu.nvml;

import com.sun.jna.Memory;
import io.gpuagent.gpu.GpuException;
import io.gpuagent.gpu.GpuTopology;
import io.gpuagent.gpu.nvml.NvmlDevice.Feature;

import java.util.List;

/**
 * Reads how GPUs are connected, as {@code nvidia-smi topo -m} does: the PCIe common ancestor of
 * every pair ({@code nvmlDeviceGetTopologyCommonAncestor}) and the active NVLinks of every GPU
 * ({@code nvmlDeviceGetNvLinkState}), each link's far end found by its PCI address
 * ({@code nvmlDeviceGetNvLinkRemotePciInfo_v2}). A link whose far end is an NVSwitch rather than a
 * GPU connects to every other GPU on the switches: on an 8x H100 HGX board each GPU has 18 links
 * into the NVSwitches and {@code nvidia-smi} shows {@code NV18} for every pair, the smaller count
 * of the two GPUs.
 *
 * <p>The far end's kind comes from {@code nvmlDeviceGetNvLinkRemoteDeviceType} where the driver
 * has it; where it does not, a far end that is none of the machine's GPUs is taken for an NVSwitch
 * (the only other NVLink peer NVIDIA made, IBM's NPU, left with POWER9). Uses its own buffers and
 * no device monitor: NVML is thread-safe, and a pair spans two devices.
 */
final class NvmlTopology {
    /** {@code NVML_NVLINK_MAX_LINKS}. */
    static final int MAX_LINKS = 18;
    /** {@code NVML_NVLINK_DEVICE_TYPE_GPU}, {@code _SWITCH}. */
    static final int REMOTE_GPU = 0;
    static final int REMOTE_SWITCH = 2;

    private final NvmlFunctions fn;

    NvmlTopology(NvmlFunctions fn) {
        this.fn = fn;
    }

    GpuTopology read(List<String> uuids, List<NvmlDevice> devices) throws GpuException {
        int n = devices.size();
        int[][] ancestor = new int[n][n];
        Memory out = new Memory(8);
        for (int i = 0; i < n; i++) {
            ancestor[i][i] = GpuTopology.INTERNAL;
            for (int j = i + 1; j < n; j++) {
                NvmlDevice a = devices.get(i);
                NvmlDevice b = devices.get(j);
                int level = -1;
                if (a.call(Feature.TOPOLOGY, fn.deviceGetTopologyCommonAncestor, b.handle, out) == NvmlReturn.SUCCESS) {
                    level = out.getInt(0);
                }
                ancestor[i][j] = level;
                ancestor[j][i] = level;
            }
        }
        int[][] links = new int[n][n];
        int[] switchLinks = new int[n];
        int[][] pci = new int[n][];
        for (int i = 0; i < n; i++) {
            pci[i] = address(devices.get(i));
        }
        for (int i = 0; i < n; i++) {
            countLinks(devices.get(i), i, pci, links[i], switchLinks);
        }
        int[][] nvlinks = new int[n][n];
        boolean nvswitch = false;
        for (int i = 0; i < n; i++) {
            nvswitch |= switchLinks[i] > 0;
            for (int j = 0; j < n; j++) {
                if (i == j) {
                    continue;
                }
                // both ends count the same links on a healthy board; a link down on one side counts on neither
                int direct = Math.min(links[i][j], links[j][i]);
                int viaSwitch = Math.min(switchLinks[i], switchLinks[j]);
                nvlinks[i][j] = direct + viaSwitch;
            }
        }
        return new GpuTopology(uuids, ancestor, nvlinks, nvswitch);
    }

    /** Adds GPU {@code i}'s active links to {@code row} (by far-end GPU) and {@code switchLinks[i]}. */
    private void countLinks(NvmlDevice d, int i, int[][] pci, int[] row, int[] switchLinks) throws GpuException {
        Memory out = new Memory(8);
        NvmlStructs.PciInfo remote = new NvmlStructs.PciInfo();
        for (int link = 0; link < MAX_LINKS && d.supports(Feature.NVLINK); link++) {
            NvmlReturn r = d.call(Feature.NVLINK, fn.deviceGetNvLinkState, link, out);
            if (r == NvmlReturn.ERROR_INVALID_ARGUMENT) {
                break; // past this card's last link
            }
            if (r != NvmlReturn.SUCCESS || out.getInt(0) != 1) {
                continue;
            }
            if (NvmlCall.invoke(fn.deviceGetNvLinkRemotePciInfo, d.handle, link, remote) != NvmlReturn.SUCCESS) {
                continue;
            }
            int peer = indexOf(pci, remote.domain, remote.bus, remote.device);
            int type = remoteType(d, link);
            if (type == REMOTE_SWITCH || (type < 0 && peer < 0)) {
                switchLinks[i]++;
            } else if (peer >= 0 && peer != i) {
                row[peer]++;
            }
        }
    }

    /** The far end's {@code nvmlIntNvLinkDeviceType_t}, or -1 when the driver cannot say. */
    private int remoteType(NvmlDevice d, int link) throws GpuException {
        Memory out = new Memory(4);
        if (d.call(Feature.NVLINK_REMOTE_TYPE, fn.deviceGetNvLinkRemoteDeviceType, link, out) == NvmlReturn.SUCCESS) {
            int t = out.getInt(0);
            return t == REMOTE_GPU || t == REMOTE_SWITCH ? t : -1;
        }
        return -1;
    }

    private int[] address(NvmlDevice d) throws GpuException {
        NvmlStructs.PciInfo p = new NvmlStructs.PciInfo();
        if (d.call(Feature.PCI_INFO, fn.deviceGetPciInfo, p) != NvmlReturn.SUCCESS) {
            return null;
        }
        return new int[] {p.domain, p.bus, p.device};
    }

    private static int indexOf(int[][] pci, int domain, int bus, int device) {
        for (int k = 0; k < pci.length; k++) {
            if (pci[k] != null && pci[k][0] == domain && pci[k][1] == bus && pci[k][2] == device) {
                return k;
            }
        }
        return -1;
    }
}
