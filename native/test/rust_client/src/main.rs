//! nvml_client_rs: the Rust NVML client. It loads libnvidia-ml.so.1 by path at run time through
//! `nvml-wrapper-sys`'s `NvmlLib::new` (bindgen's libloading bindings generated from NVIDIA's
//! nvml.h; the high-level nvml-wrapper 0.9 has no MIG calls), resolves the versioned symbol
//! first and the older name as fallback, and prints exactly the lines `../nvml_client.c`
//! prints (see that file for the format), so the two can be diffed.
//!
//! Usage: nvml_client_rs [path/to/libnvidia-ml.so.1 [inventory|mig|topology]]

// the bindings keep nvml.h's names (nvmlGpuLevel_enum_NVML_TOPOLOGY_NODE ...), matched on below
#![allow(non_upper_case_globals)]

use std::io::Write;
use std::os::raw::{c_char, c_int, c_uint, c_ulong};
use std::process::exit;
use std::ptr::null_mut;

use nvml_wrapper_sys::bindings::*;

const SUCCESS: nvmlReturn_t = nvmlReturn_enum_NVML_SUCCESS;
const NOT_SUPPORTED: nvmlReturn_t = nvmlReturn_enum_NVML_ERROR_NOT_SUPPORTED;
/// nvml.h of R525 and later: ..., 1_SLICE_REV1 (7), 2_SLICE_REV1 (8), 1_SLICE_REV2 (9), COUNT
/// 0xA. The bindings were generated from an older nvml.h whose NVML_GPU_INSTANCE_PROFILE_COUNT
/// is 8, which would hide 1g.20gb (index 9) on an H100 or A100; so, like nvml_client.c (from
/// include/nvml_abi.h), ask for every index below 10.
const GPU_INSTANCE_PROFILE_COUNT: c_uint = 0xA;
/// NVML_STRUCT_VERSION(Memory, 2) and NVML_STRUCT_VERSION(GpuInstanceProfileInfo, 2): nvml.h
/// macros bindgen does not carry over.
const MEMORY_V2: c_uint = std::mem::size_of::<nvmlMemory_v2_t>() as c_uint | (2 << 24);
const GI_PROFILE_INFO_V2: c_uint =
    std::mem::size_of::<nvmlGpuInstanceProfileInfo_v2_t>() as c_uint | (2 << 24);
/// The other tables' and clients' GPU limit.
const MAX_GPUS: usize = 64;

const _: () = assert!(std::mem::size_of::<nvmlPciInfo_t>() == 68);
const _: () = assert!(MEMORY_V2 == 0x0200_0028);
const _: () = assert!(std::mem::size_of::<nvmlGpuInstanceProfileInfo_v2_t>() == 152);
const _: () = assert!(std::mem::size_of::<nvmlGpuInstanceInfo_t>() == 24);
const _: () = assert!(std::mem::size_of::<nvmlComputeInstanceInfo_t>() == 32);
const _: () = assert!(NVML_NVLINK_MAX_LINKS == 18);

/// Exits as nvml_client.c does (status 3) when a symbol the section needs is missing: the
/// bindings only panic when a missing one is called.
macro_rules! need {
    ($lib:expr, $($name:ident),+ $(,)?) => {
        $( if $lib.$name.is_err() { missing(stringify!($name)); } )+
    };
}

fn missing(name: &str) -> ! {
    let _ = std::io::stdout().flush();
    eprintln!("nvml_client_rs: symbol {} not found", name);
    exit(3);
}

/// One output line, written as nvml_client.c's put(): ' ' as %20, '%' as %25.
struct Line(String);

impl Line {
    fn new() -> Self {
        Line(String::new())
    }
    fn put(&mut self, key: &str, val: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(key);
        self.0.push('=');
        for c in val.chars() {
            match c {
                ' ' => self.0.push_str("%20"),
                '%' => self.0.push_str("%25"),
                _ => self.0.push(c),
            }
        }
        self
    }
    fn put_u(&mut self, key: &str, v: u64) -> &mut Self {
        self.put(key, &v.to_string())
    }
    fn print(&self) {
        println!("{}", self.0);
    }
}

fn err_text(r: nvmlReturn_t) -> String {
    if r == NOT_SUPPORTED {
        "NOT_SUPPORTED".to_string()
    } else {
        format!("ERROR_{}", r)
    }
}

/// An unsigned result, or the error that replaced it.
fn u(r: nvmlReturn_t, v: u64) -> String {
    if r != SUCCESS {
        err_text(r)
    } else {
        v.to_string()
    }
}

fn s(r: nvmlReturn_t, v: &str) -> String {
    if r != SUCCESS {
        err_text(r)
    } else {
        v.to_string()
    }
}

/// The text up to the first NUL of a C char array (or the whole array if it has none).
fn text(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn zeroed<T>() -> T {
    // SAFETY: only used for the bindings' plain C structs (integers, arrays, raw pointers).
    unsafe { std::mem::zeroed() }
}

struct Client {
    lib: NvmlLib,
}

impl Client {
    unsafe fn by_index(&self, i: c_uint, d: *mut nvmlDevice_t) -> nvmlReturn_t {
        if self.lib.nvmlDeviceGetHandleByIndex_v2.is_ok() {
            self.lib.nvmlDeviceGetHandleByIndex_v2(i, d)
        } else {
            self.lib.nvmlDeviceGetHandleByIndex(i, d)
        }
    }

    /// A GPU instance's line (ci None) or one of its compute instances' lines.
    fn put_instance(index: u32, gi: u32, ci: Option<u32>, profile_id: u32, start: u32, size: u32) {
        let mut l = Line::new();
        l.put_u("index", index.into()).put_u("gpu_instance", gi.into());
        if let Some(ci) = ci {
            l.put_u("compute_instance", ci.into());
        }
        l.put_u("profile_id", profile_id.into()).put("placement", &format!("{}:{}", start, size));
        l.print();
    }

    unsafe fn print_mig(&self, n: c_uint) {
        let lib = &self.lib;
        need!(
            lib,
            nvmlDeviceGetMigMode,
            nvmlDeviceGetMaxMigDeviceCount,
            nvmlDeviceGetGpuInstanceProfileInfoV,
            nvmlDeviceGetGpuInstancePossiblePlacements_v2,
            nvmlDeviceGetGpuInstanceRemainingCapacity,
            nvmlDeviceGetGpuInstanceById,
            nvmlGpuInstanceGetInfo,
            nvmlGpuInstanceGetComputeInstanceById,
            nvmlComputeInstanceGetInfo_v2,
            nvmlDeviceGetMigDeviceHandleByIndex,
            nvmlDeviceGetUUID,
            nvmlDeviceGetName,
            nvmlDeviceGetMemoryInfo_v2,
            nvmlDeviceGetGpuInstanceId,
            nvmlDeviceGetComputeInstanceId,
        );
        for i in 0..n {
            let mut d: nvmlDevice_t = null_mut();
            let hr = self.by_index(i, &mut d);
            let (mut cur, mut pend, mut max): (c_uint, c_uint, c_uint) = (0, 0, 0);
            let r = if hr != SUCCESS { hr } else { lib.nvmlDeviceGetMigMode(d, &mut cur, &mut pend) };
            let mut l = Line::new();
            l.put_u("index", i.into())
                .put("mig_current", &u(r, cur.into()))
                .put("mig_pending", &u(r, pend.into()));
            let r = if hr != SUCCESS { hr } else { lib.nvmlDeviceGetMaxMigDeviceCount(d, &mut max) };
            l.put("max_mig_devices", &u(r, max.into()));
            l.print();
            if hr != SUCCESS || cur != NVML_DEVICE_MIG_ENABLE {
                continue;
            }
            for k in 0..GPU_INSTANCE_PROFILE_COUNT {
                let mut pi: nvmlGpuInstanceProfileInfo_v2_t = zeroed();
                pi.version = GI_PROFILE_INFO_V2;
                if lib.nvmlDeviceGetGpuInstanceProfileInfoV(d, k, &mut pi) != SUCCESS {
                    continue;
                }
                let mut pl: [nvmlGpuInstancePlacement_t; 8] = zeroed();
                let mut np: c_uint = 8;
                let mut cap: c_uint = 0;
                let mut list = String::new();
                if lib.nvmlDeviceGetGpuInstancePossiblePlacements_v2(d, pi.id, pl.as_mut_ptr(), &mut np)
                    == SUCCESS
                {
                    for (j, p) in pl.iter().take(np as usize).enumerate() {
                        if j > 0 {
                            list.push(',');
                        }
                        list.push_str(&format!("{}:{}", p.start, p.size));
                    }
                }
                let r = lib.nvmlDeviceGetGpuInstanceRemainingCapacity(d, pi.id, &mut cap);
                Line::new()
                    .put_u("index", i.into())
                    .put_u("profile", k.into())
                    .put_u("id", pi.id.into())
                    .put("name", &text(&pi.name))
                    .put_u("slices", pi.sliceCount.into())
                    .put_u("instances", pi.instanceCount.into())
                    .put_u("memory_mib", pi.memorySizeMB)
                    .put_u("sm", pi.multiprocessorCount.into())
                    .put("placements", &list)
                    .put("remaining", &u(r, cap.into()))
                    .print();
            }
            for g in 0..15 {
                let mut gi: nvmlGpuInstance_t = null_mut();
                let mut gin: nvmlGpuInstanceInfo_t = zeroed();
                if lib.nvmlDeviceGetGpuInstanceById(d, g, &mut gi) != SUCCESS
                    || lib.nvmlGpuInstanceGetInfo(gi, &mut gin) != SUCCESS
                {
                    continue;
                }
                Self::put_instance(i, gin.id, None, gin.profileId, gin.placement.start, gin.placement.size);
                for c in 0..8 {
                    let mut ci: nvmlComputeInstance_t = null_mut();
                    let mut cin: nvmlComputeInstanceInfo_t = zeroed();
                    if lib.nvmlGpuInstanceGetComputeInstanceById(gi, c, &mut ci) != SUCCESS
                        || lib.nvmlComputeInstanceGetInfo_v2(ci, &mut cin) != SUCCESS
                    {
                        continue;
                    }
                    Self::put_instance(
                        i,
                        gin.id,
                        Some(cin.id),
                        cin.profileId,
                        cin.placement.start,
                        cin.placement.size,
                    );
                }
            }
            for j in 0..max {
                let mut m: nvmlDevice_t = null_mut();
                if lib.nvmlDeviceGetMigDeviceHandleByIndex(d, j, &mut m) != SUCCESS {
                    continue;
                }
                let mut txt = [0 as c_char; NVML_DEVICE_NAME_V2_BUFFER_SIZE as usize];
                let (mut g, mut c): (c_uint, c_uint) = (0, 0);
                let mut mem: nvmlMemory_v2_t = zeroed();
                mem.version = MEMORY_V2;
                let mut l = Line::new();
                l.put_u("index", i.into()).put_u("mig_device", j.into());
                let r = lib.nvmlDeviceGetUUID(m, txt.as_mut_ptr(), txt.len() as c_uint);
                l.put("uuid", &s(r, &text(&txt)));
                let r = lib.nvmlDeviceGetName(m, txt.as_mut_ptr(), txt.len() as c_uint);
                l.put("name", &s(r, &text(&txt)));
                let r = lib.nvmlDeviceGetMemoryInfo_v2(m, &mut mem);
                l.put("memory_total_bytes", &u(r, mem.total));
                let r = lib.nvmlDeviceGetGpuInstanceId(m, &mut g);
                l.put("gpu_instance", &u(r, g.into()));
                let r = lib.nvmlDeviceGetComputeInstanceId(m, &mut c);
                l.put("compute_instance", &u(r, c.into()));
                l.print();
            }
        }
    }

    unsafe fn print_topology(&self, n: c_uint) {
        let lib = &self.lib;
        need!(
            lib,
            nvmlDeviceGetTopologyCommonAncestor,
            nvmlDeviceGetP2PStatus,
            nvmlDeviceGetNvLinkState,
            nvmlDeviceGetNvLinkVersion,
            nvmlDeviceGetNvLinkRemotePciInfo_v2,
            nvmlDeviceGetNvLinkRemoteDeviceType,
            nvmlDeviceGetPciInfo_v3,
            nvmlDeviceGetMemoryAffinity,
        );
        let nd = (n as usize).min(MAX_GPUS);
        let mut d: Vec<nvmlDevice_t> = vec![null_mut(); nd];
        let mut bus: Vec<String> = vec![String::new(); nd];
        for i in 0..nd {
            let mut p: nvmlPciInfo_t = zeroed();
            if self.by_index(i as c_uint, &mut d[i]) == SUCCESS
                && lib.nvmlDeviceGetPciInfo_v3(d[i], &mut p) == SUCCESS
            {
                bus[i] = text(&p.busId);
            }
        }
        for i in 0..nd {
            // links that lead to GPU j: to a switch (every GPU on it), or to j's own bus
            let (mut nlinks, mut ver, mut to_switch): (u32, c_uint, u32) = (0, 0, 0);
            let mut to_gpu = vec![0u32; nd];
            let mut remotes = String::new();
            for link in 0..NVML_NVLINK_MAX_LINKS {
                let (mut on, mut t): (nvmlEnableState_t, nvmlIntNvLinkDeviceType_t) = (0, 0);
                let mut rp: nvmlPciInfo_t = zeroed();
                if lib.nvmlDeviceGetNvLinkState(d[i], link, &mut on) != SUCCESS
                    || on != nvmlEnableState_enum_NVML_FEATURE_ENABLED
                {
                    continue;
                }
                nlinks += 1;
                if ver == 0 {
                    lib.nvmlDeviceGetNvLinkVersion(d[i], link, &mut ver);
                }
                if lib.nvmlDeviceGetNvLinkRemotePciInfo_v2(d[i], link, &mut rp) != SUCCESS {
                    continue;
                }
                let remote = text(&rp.busId);
                if nlinks > 1 {
                    remotes.push(',');
                }
                remotes.push_str(&remote);
                if lib.nvmlDeviceGetNvLinkRemoteDeviceType(d[i], link, &mut t) == SUCCESS
                    && t == nvmlIntNvLinkDeviceType_enum_NVML_NVLINK_DEVICE_TYPE_SWITCH
                {
                    to_switch += 1;
                } else {
                    for j in 0..nd {
                        to_gpu[j] += (remote == bus[j]) as u32;
                    }
                }
            }
            let mut row: Vec<String> = Vec::with_capacity(nd);
            let mut pcie: Vec<String> = Vec::with_capacity(nd);
            for j in 0..nd {
                let mut lvl: nvmlGpuTopologyLevel_t = 0;
                let mut st: nvmlGpuP2PStatus_t = 99;
                let ar = lib.nvmlDeviceGetTopologyCommonAncestor(d[i], d[j], &mut lvl);
                pcie.push(if ar == SUCCESS { level_name(lvl) } else { "ERR" }.to_string());
                if i != j
                    && lib.nvmlDeviceGetP2PStatus(
                        d[i],
                        d[j],
                        nvmlGpuP2PCapsIndex_enum_NVML_P2P_CAPS_INDEX_NVLINK,
                        &mut st,
                    ) == SUCCESS
                    && st == nvmlGpuP2PStatus_enum_NVML_P2P_STATUS_OK
                {
                    row.push(format!("NV{}", to_switch + to_gpu[j]));
                } else if ar == SUCCESS {
                    row.push(level_name(lvl).to_string());
                } else {
                    row.push("ERR".to_string());
                }
            }
            let mut nodes: c_ulong = 0;
            let mut node: i32 = -1;
            if lib.nvmlDeviceGetMemoryAffinity(d[i], 1, &mut nodes, NVML_AFFINITY_SCOPE_NODE) == SUCCESS
                && nodes != 0
            {
                node = nodes.trailing_zeros() as i32;
            }
            Line::new()
                .put_u("index", i as u64)
                .put("topo", &row.join(","))
                .put("pcie", &pcie.join(","))
                .put("numa_node", &node.to_string())
                .put_u("nvlinks", nlinks.into())
                .put_u("nvlink_version", ver.into())
                .put("nvlink_remotes", if remotes.is_empty() { "-" } else { &remotes })
                .print();
        }
    }

    unsafe fn print_inventory(&self, n: c_uint) {
        let lib = &self.lib;
        need!(
            lib,
            nvmlDeviceGetName,
            nvmlDeviceGetUUID,
            nvmlDeviceGetSerial,
            nvmlDeviceGetMemoryInfo,
            nvmlDeviceGetCudaComputeCapability,
            nvmlDeviceGetMigMode,
            nvmlDeviceGetEccMode,
            nvmlDeviceGetPowerManagementLimit,
            nvmlDeviceGetPowerManagementDefaultLimit,
            nvmlDeviceGetPowerManagementLimitConstraints,
            nvmlDeviceGetMaxPcieLinkGeneration,
            nvmlDeviceGetMaxPcieLinkWidth,
            nvmlDeviceGetMaxClockInfo,
            nvmlDeviceGetNumFans,
            nvmlDeviceGetArchitecture,
            nvmlDeviceGetBrand,
        );
        if lib.nvmlDeviceGetPciInfo_v3.is_err() && lib.nvmlDeviceGetPciInfo_v2.is_err() {
            missing("nvmlDeviceGetPciInfo_v3");
        }
        let mem2 = lib.nvmlDeviceGetMemoryInfo_v2.is_ok();
        for i in 0..n {
            let mut d: nvmlDevice_t = null_mut();
            let hr = self.by_index(i, &mut d);
            let mut txt = [0 as c_char; NVML_DEVICE_NAME_V2_BUFFER_SIZE as usize];
            let (mut a, mut b): (c_uint, c_uint) = (0, 0);
            let (mut ma, mut mi): (c_int, c_int) = (0, 0);
            // the handle's error for every field, as nvml_client.c's CALL()
            let call = |f: &mut dyn FnMut() -> nvmlReturn_t| if hr != SUCCESS { hr } else { f() };
            let mut l = Line::new();
            l.put_u("index", i.into());
            let r = call(&mut || lib.nvmlDeviceGetName(d, txt.as_mut_ptr(), txt.len() as c_uint));
            l.put("name", &s(r, &text(&txt)));
            let r = call(&mut || lib.nvmlDeviceGetUUID(d, txt.as_mut_ptr(), txt.len() as c_uint));
            l.put("uuid", &s(r, &text(&txt)));
            let r = call(&mut || lib.nvmlDeviceGetSerial(d, txt.as_mut_ptr(), txt.len() as c_uint));
            l.put("serial", &s(r, &text(&txt)));
            let mut p: nvmlPciInfo_t = zeroed();
            let r = call(&mut || {
                if lib.nvmlDeviceGetPciInfo_v3.is_ok() {
                    lib.nvmlDeviceGetPciInfo_v3(d, &mut p)
                } else {
                    lib.nvmlDeviceGetPciInfo_v2(d, &mut p)
                }
            });
            let device_id = format!("0x{:08X}", if r == SUCCESS { p.pciDeviceId } else { 0 });
            l.put("pci_bus_id", &s(r, &text(&p.busId)));
            l.put("pci_device_id", &s(r, &device_id));
            let (r, total) = if mem2 {
                let mut m2: nvmlMemory_v2_t = zeroed();
                m2.version = MEMORY_V2;
                (call(&mut || lib.nvmlDeviceGetMemoryInfo_v2(d, &mut m2)), m2.total)
            } else {
                let mut m1: nvmlMemory_t = zeroed();
                (call(&mut || lib.nvmlDeviceGetMemoryInfo(d, &mut m1)), m1.total)
            };
            l.put("memory_total_bytes", &u(r, total));
            let r = call(&mut || lib.nvmlDeviceGetCudaComputeCapability(d, &mut ma, &mut mi));
            l.put("cc", &s(r, &format!("{}.{}", ma, mi)));
            let r = call(&mut || lib.nvmlDeviceGetMigMode(d, &mut a, &mut b));
            l.put("mig_current", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetEccMode(d, &mut a, &mut b));
            l.put("ecc_current", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetPowerManagementLimit(d, &mut a));
            l.put("power_limit_mw", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetPowerManagementDefaultLimit(d, &mut a));
            l.put("power_default_limit_mw", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetPowerManagementLimitConstraints(d, &mut a, &mut b));
            l.put("power_min_limit_mw", &u(r, a.into()));
            l.put("power_max_limit_mw", &u(r, b.into()));
            let r = call(&mut || lib.nvmlDeviceGetMaxPcieLinkGeneration(d, &mut a));
            l.put("pcie_max_gen", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetMaxPcieLinkWidth(d, &mut a));
            l.put("pcie_max_width", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetMaxClockInfo(d, nvmlClockType_enum_NVML_CLOCK_SM, &mut a));
            l.put("max_sm_clock_mhz", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetMaxClockInfo(d, nvmlClockType_enum_NVML_CLOCK_MEM, &mut a));
            l.put("max_mem_clock_mhz", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetNumFans(d, &mut a));
            l.put("fan_count", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetArchitecture(d, &mut a));
            l.put("arch", &u(r, a.into()));
            let r = call(&mut || lib.nvmlDeviceGetBrand(d, &mut a));
            l.put("brand", &u(r, a.into()));
            l.print();
        }
    }
}

fn level_name(level: nvmlGpuTopologyLevel_t) -> &'static str {
    match level {
        nvmlGpuLevel_enum_NVML_TOPOLOGY_INTERNAL => "X",
        nvmlGpuLevel_enum_NVML_TOPOLOGY_SINGLE => "PIX",
        nvmlGpuLevel_enum_NVML_TOPOLOGY_MULTIPLE => "PXB",
        nvmlGpuLevel_enum_NVML_TOPOLOGY_HOSTBRIDGE => "PHB",
        nvmlGpuLevel_enum_NVML_TOPOLOGY_NODE => "NODE",
        _ => "SYS",
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map(String::as_str).unwrap_or("libnvidia-ml.so.1");
    // SAFETY: loading NVML runs no initializers that matter; every call below passes
    // pointers to live locals of the types the bindings declare.
    let lib = match unsafe { NvmlLib::new(path) } {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!("nvml_client_rs: cannot load {}: {}", path, e);
            exit(2);
        }
    };
    let code = unsafe { run(Client { lib }, args.get(2).map(String::as_str).unwrap_or("inventory")) };
    let _ = std::io::stdout().flush();
    exit(code);
}

unsafe fn run(c: Client, section: &str) -> i32 {
    let lib = &c.lib;
    if lib.nvmlInit_v2.is_err() && lib.nvmlInit.is_err() {
        missing("nvmlInit_v2");
    }
    need!(lib, nvmlShutdown, nvmlSystemGetDriverVersion, nvmlSystemGetNVMLVersion);
    if lib.nvmlSystemGetCudaDriverVersion_v2.is_err() && lib.nvmlSystemGetCudaDriverVersion.is_err() {
        missing("nvmlSystemGetCudaDriverVersion_v2");
    }
    if lib.nvmlDeviceGetCount_v2.is_err() && lib.nvmlDeviceGetCount.is_err() {
        missing("nvmlDeviceGetCount_v2");
    }
    if lib.nvmlDeviceGetHandleByIndex_v2.is_err() && lib.nvmlDeviceGetHandleByIndex.is_err() {
        missing("nvmlDeviceGetHandleByIndex_v2");
    }
    let r = if lib.nvmlInit_v2.is_ok() { lib.nvmlInit_v2() } else { lib.nvmlInit() };
    if r != SUCCESS {
        eprintln!("nvml_client_rs: nvmlInit failed: {}", r);
        return 1;
    }
    let mut dv = [0 as c_char; NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE as usize];
    let mut nv = [0 as c_char; NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE as usize];
    let mut cudav: c_int = 0;
    let mut n: c_uint = 0;
    let mut l = Line::new();
    let r = lib.nvmlSystemGetDriverVersion(dv.as_mut_ptr(), dv.len() as c_uint);
    l.put("driver_version", &s(r, &text(&dv)));
    let r = lib.nvmlSystemGetNVMLVersion(nv.as_mut_ptr(), nv.len() as c_uint);
    l.put("nvml_version", &s(r, &text(&nv)));
    let r = if lib.nvmlSystemGetCudaDriverVersion_v2.is_ok() {
        lib.nvmlSystemGetCudaDriverVersion_v2(&mut cudav)
    } else {
        lib.nvmlSystemGetCudaDriverVersion(&mut cudav)
    };
    // nvml_client.c widens the int to unsigned long long
    l.put("cuda_driver_version", &u(r, cudav as i64 as u64));
    let r = if lib.nvmlDeviceGetCount_v2.is_ok() {
        lib.nvmlDeviceGetCount_v2(&mut n)
    } else {
        lib.nvmlDeviceGetCount(&mut n)
    };
    l.put("count", &u(r, n.into()));
    l.print();
    match section {
        "mig" => c.print_mig(n),
        "topology" => c.print_topology(n),
        "inventory" => c.print_inventory(n),
        _ => {
            eprintln!("nvml_client_rs: unknown section '{}' (inventory, mig, topology)", section);
            return 2;
        }
    }
    lib.nvmlShutdown();
    0
}
