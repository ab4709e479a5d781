#!/usr/bin/env python3
"""Compares `gpu-agent probe --json` with `nvidia-smi --query-gpu=...` field by field.

Runs on a machine with a real NVIDIA GPU and the driver installed; needs only Python 3 (stdlib).
GPUs are matched by UUID. Identifiers must be equal, configured values equal after unit
conversion (nvidia-smi MiB vs bytes, W vs mW), live readings within a tolerance (the two tools
read them a moment apart). A field nvidia-smi reports as [N/A] or [Not Supported] must be null in
the probe's JSON, and a null in the JSON must be [N/A] or [Not Supported] in nvidia-smi.

Usage:
  compare.py --probe-json probe.json [--smi-csv smi.csv | --nvidia-smi CMD [--save-smi FILE]]
             [--allow-simulated]
Without --smi-csv it runs nvidia-smi (or CMD, split like a shell would) with the query itself and
saves its output to --save-smi if given. Exit status: 0 every field matched, 1 at least one
mismatch, 2 the inputs could not be read or did not parse.
"""

import argparse
import csv
import io
import json
import shlex
import subprocess
import sys

# The nvidia-smi fields, in the order of the query (also the order of the report).
FIELDS = [
    "index", "name", "uuid", "serial", "pci.bus_id", "memory.total", "driver_version",
    "compute_cap", "mig.mode.current", "ecc.mode.current", "power.limit", "power.default_limit",
    "power.min_limit", "power.max_limit", "pcie.link.gen.max", "pcie.link.width.max",
    "clocks.max.sm", "clocks.max.mem", "temperature.gpu", "power.draw",
]
QUERY = ["--query-gpu=" + ",".join(FIELDS), "--format=csv,noheader,nounits"]

# What nvidia-smi prints for a value the GPU does not have; the probe's JSON has null there.
ABSENT = {"[N/A]", "[Not Supported]", "N/A", "Not Supported"}

MIB = 1024 * 1024
LIVE_TEMPERATURE_C = 5          # two reads a second or two apart
LIVE_POWER_W = 30.0             # absolute floor of the power.draw tolerance ...
LIVE_POWER_FRACTION = 0.25      # ... or this fraction of the larger reading


def fail(message):
    print("compare.py: " + message, file=sys.stderr)
    sys.exit(2)


class Check:
    """One comparison: how to get the probe's value and how to judge it against nvidia-smi's."""

    def __init__(self, field, getter, kind, note=""):
        self.field, self.getter, self.kind, self.note = field, getter, kind, note


def gpu(key):
    return lambda top, g: g.get(key)


def telemetry(key):
    return lambda top, g: (g.get("telemetry") or {}).get(key)


CHECKS = [
    Check("index", gpu("index"), "int"),
    Check("name", gpu("name"), "text"),
    Check("uuid", gpu("uuid"), "text"),
    Check("serial", gpu("serial"), "text"),
    Check("pci.bus_id", gpu("pciBusId"), "busid"),
    Check("memory.total", gpu("memoryTotalBytes"), "mib", "bytes -> MiB"),
    Check("driver_version", lambda top, g: top.get("driverVersion"), "text"),
    Check("compute_cap", gpu("computeCapability"), "text"),
    Check("mig.mode.current", gpu("migMode"), "mode"),
    Check("ecc.mode.current", gpu("eccMode"), "mode"),
    Check("power.limit", gpu("powerLimitMilliwatts"), "watts", "mW -> W"),
    Check("power.default_limit", gpu("powerDefaultLimitMilliwatts"), "watts", "mW -> W"),
    Check("power.min_limit", gpu("powerMinLimitMilliwatts"), "watts", "mW -> W"),
    Check("power.max_limit", gpu("powerMaxLimitMilliwatts"), "watts", "mW -> W"),
    Check("pcie.link.gen.max", gpu("pcieMaxGeneration"), "int"),
    Check("pcie.link.width.max", gpu("pcieMaxWidth"), "int"),
    Check("clocks.max.sm", gpu("maxSmClockMhz"), "int"),
    Check("clocks.max.mem", gpu("maxMemClockMhz"), "int"),
    Check("temperature.gpu", telemetry("temperatureC"), "live_temp", "live, +/-%d C" % LIVE_TEMPERATURE_C),
    Check("power.draw", telemetry("powerMilliwatts"), "live_power",
          "live, +/-max(%g W, %d%%)" % (LIVE_POWER_W, LIVE_POWER_FRACTION * 100)),
]
assert [c.field for c in CHECKS] == FIELDS


def judge(kind, smi, probe):
    """Returns (ok, probe value as shown, reason)."""
    if smi in ABSENT or probe is None:
        if smi in ABSENT and probe is None:
            return True, "null", "absent in both"
        if probe is None:
            return False, "null", "probe has null, nvidia-smi has a value"
        return False, str(probe), "nvidia-smi says %s, probe has a value" % smi
    if smi.startswith("["):  # [Unknown Error], [Insufficient Permissions], [GPU is lost] ...
        return False, str(probe), "nvidia-smi could not read it: %s" % smi
    try:
        if kind == "text":
            return smi == str(probe), str(probe), ""
        if kind == "busid":
            return smi.lower() == str(probe).lower(), str(probe), ""
        if kind == "mode":
            return smi.lower() == str(probe).lower(), str(probe), ""
        if kind == "int":
            return int(smi) == int(probe), str(probe), ""
        if kind == "mib":
            shown = int(probe) // MIB
            # nvidia-smi truncates to whole MiB; allow one MiB for a rounding difference.
            return abs(int(smi) - shown) <= 1, str(shown), ""
        if kind == "watts":
            shown = int(probe) / 1000.0
            # nvidia-smi prints W with two decimals: equal to within its rounding.
            return abs(float(smi) - shown) <= 0.0051, "%.2f" % shown, ""
        if kind == "live_temp":
            return abs(int(float(smi)) - int(probe)) <= LIVE_TEMPERATURE_C, str(probe), ""
        if kind == "live_power":
            a, b = float(smi), int(probe) / 1000.0
            return abs(a - b) <= max(LIVE_POWER_W, LIVE_POWER_FRACTION * max(a, b)), "%.2f" % b, ""
    except (TypeError, ValueError) as e:
        return False, str(probe), "unparsable: %s" % e
    raise ValueError("unknown kind " + kind)


def read_smi(args):
    if args.smi_csv:
        with open(args.smi_csv, encoding="utf-8") as f:
            text = f.read()
    else:
        try:
            out = subprocess.run(shlex.split(args.nvidia_smi) + QUERY, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            fail("cannot run %s: %s" % (args.nvidia_smi, e))
        if out.returncode != 0:
            fail("%s failed (%d): %s" % (args.nvidia_smi, out.returncode, out.stderr.strip()))
        text = out.stdout
        if args.save_smi:
            with open(args.save_smi, "w", encoding="utf-8") as f:
                f.write(text)
    rows = {}
    for row in csv.reader(io.StringIO(text), skipinitialspace=True):
        if not row:
            continue
        if len(row) != len(FIELDS):
            fail("nvidia-smi row has %d fields, expected %d: %r" % (len(row), len(FIELDS), row))
        values = dict(zip(FIELDS, (v.strip() for v in row)))
        rows[values["uuid"]] = values
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--probe-json", required=True, help="output of `gpu-agent probe --json`")
    p.add_argument("--smi-csv", help="saved output of nvidia-smi " + " ".join(QUERY))
    p.add_argument("--nvidia-smi", default="nvidia-smi", help="the nvidia-smi command to run (default: on PATH)")
    p.add_argument("--save-smi", help="where to save the nvidia-smi output it ran")
    p.add_argument("--allow-simulated", action="store_true",
                   help="accept a probe of the simulated library (dry runs of this script only)")
    args = p.parse_args(argv)

    try:
        with open(args.probe_json, encoding="utf-8") as f:
            probe = json.load(f)
    except (OSError, ValueError) as e:
        fail("cannot read the probe's JSON %s: %s" % (args.probe_json, e))
    smi = read_smi(args)

    failures = 0
    lines = []

    def report(gpu_label, field, smi_value, probe_value, ok, reason):
        nonlocal failures
        failures += 0 if ok else 1
        lines.append((gpu_label, field, smi_value, probe_value, "PASS" if ok else "FAIL", reason))

    if probe.get("simulated") and not args.allow_simulated:
        report("-", "simulated", "false", "true", False, "the probe loaded the simulated NVML library, not the driver's")
    probe_gpus = {g.get("uuid"): g for g in probe.get("gpus", [])}
    report("-", "gpu count", str(len(smi)), str(len(probe_gpus)), len(smi) == len(probe_gpus), "")
    for uuid in sorted(set(smi) - set(probe_gpus)):
        report(uuid, "uuid", uuid, "missing", False, "GPU seen by nvidia-smi only")
    for uuid in sorted(set(probe_gpus) - set(smi)):
        report(uuid, "uuid", "missing", uuid, False, "GPU seen by the probe only")

    for uuid in sorted(set(smi) & set(probe_gpus), key=lambda u: int(smi[u]["index"])):
        row, g = smi[uuid], probe_gpus[uuid]
        label = "GPU %s" % row["index"]
        for c in CHECKS:
            ok, shown, reason = judge(c.kind, row[c.field], c.getter(probe, g))
            report(label, c.field, row[c.field], shown, ok, reason or c.note)

    widths = [max(len(str(x[i])) for x in lines + [("gpu", "field", "nvidia-smi", "probe", "result", "")])
              for i in range(5)]
    header = ("gpu", "field", "nvidia-smi", "probe", "result", "note")
    for line in [header] + lines:
        print("  ".join(str(v).ljust(widths[i]) for i, v in enumerate(line[:5])) + "  " + line[5])
    checked = len(lines)
    print()
    print("driver %s, NVML %s, CUDA %s, %d GPU(s): %s" % (
        probe.get("driverVersion"), probe.get("nvmlVersion"), probe.get("cudaDriverVersion"),
        len(probe_gpus), ", ".join(sorted({g.get("name", "?") for g in probe_gpus.values()}))))
    if failures:
        print("RESULT: FAIL (%d of %d checks mismatched)" % (failures, checked))
        return 1
    print("RESULT: PASS (%d checks)" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
