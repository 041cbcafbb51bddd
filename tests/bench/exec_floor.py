#!/usr/bin/env python3
"""What an IPAM exec costs before the plugin does anything, and what tether-ipam / host-local cost.

Spawns with os.posix_spawn (stdin from a file, output to /dev/null) and reaps with os.waitpid, so
the harness adds ~0.1 ms instead of subprocess.run's pipes and polling. Everything is interleaved
round by round. Prints a markdown table; run as root from scripts/bench.sh (inside its netns).

  exec_floor.py --bin-dir DIR --data-dir DIR --noop-static F --noop-nolibc F --cpuid-cost F [-R 200]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time


def spawn(argv, env, stdin_path):
    fa = [(os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
          (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=fa)
    _, status = os.waitpid(pid, 0)
    dt = (time.perf_counter_ns() - t0) / 1e6
    if status != 0:
        raise SystemExit(f"{argv[0]} {env.get('CNI_COMMAND', '')} exited with status {status}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--ref-dir", default="/usr/lib/cni")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--noop-static", required=True, help="static glibc int main(){return 0;}")
    ap.add_argument("--noop-nolibc", required=True, help="static, no libc: _start does exit(0)")
    ap.add_argument("--cpuid-cost", required=True, help="prints the cost of one CPUID in µs")
    ap.add_argument("-R", type=int, default=200)
    ap.add_argument("--json-out")
    a = ap.parse_args()

    os.makedirs(a.data_dir, exist_ok=True)
    confs = {}
    for label, ipam in (("tether-ipam", "tether-ipam"), ("host-local", "host-local")):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"cniVersion": "1.0.0", "name": "floor-" + label,
                   "ipam": {"type": ipam, "subnet": "10.251.0.0/16", "dataDir": a.data_dir}}, f)
        f.close()
        confs[label] = f.name
    plugins = {"tether-ipam": os.path.join(a.bin_dir, "tether-ipam"),
               "host-local": os.path.join(a.ref_dir, "host-local")}

    def env(cmd, cid="floor"):
        return {"CNI_COMMAND": cmd, "CNI_CONTAINERID": cid, "CNI_NETNS": "/proc/self/ns/net",
                "CNI_IFNAME": "eth0", "CNI_PATH": a.bin_dir}

    samples = {}
    def add(key, v):
        samples.setdefault(key, []).append(v)

    for i in range(a.R):
        add("no-op, static, no libc", spawn([a.noop_nolibc], {}, "/dev/null"))
        add("no-op, static glibc", spawn([a.noop_static], {}, "/dev/null"))
        for label, path in plugins.items():
            add(f"{label} VERSION", spawn([path], env("VERSION"), confs[label]))
            add(f"{label} ADD", spawn([path], env("ADD", f"floor-{i}"), confs[label]))
            add(f"{label} DEL", spawn([path], env("DEL", f"floor-{i}"), confs[label]))

    med = {k: statistics.median(v) for k, v in samples.items()}
    p90 = {k: sorted(v)[int(len(v) * 0.9)] for k, v in samples.items()}
    cpuid_us = float(subprocess.run([a.cpuid_cost], capture_output=True, text=True, check=True).stdout.split()[0])

    print(f"#### Exec floor: posix_spawn + waitpid, R={a.R}, interleaved (ms)\n")
    print("| exec | median | p90 |")
    print("|---|---|---|")
    for k in samples:
        print(f"| {k} | {med[k]:.3f} | {p90[k]:.3f} |")
    print()
    for op in ("ADD", "DEL"):
        print(f"- {op} ratio tether-ipam/host-local: {med['tether-ipam ' + op] / med['host-local ' + op]:.2f}; "
              f"tether-ipam above the static-glibc no-op: {med['tether-ipam ' + op] - med['no-op, static glibc']:.3f} ms")
    print(f"- glibc start-up (static glibc no-op minus no-libc no-op): "
          f"{med['no-op, static glibc'] - med['no-op, static, no libc']:.3f} ms; one CPUID: {cpuid_us:.2f} µs")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"median_ms": med, "p90_ms": p90, "cpuid_us": cpuid_us, "R": a.R}, f, indent=1)


if __name__ == "__main__":
    main()
