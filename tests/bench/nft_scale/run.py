#!/usr/bin/env python3
"""How the nftables backend's ADD/DEL scale, in a throwaway netns (root; deleted at exit).

    sudo tests/bench/nft_scale/run.py build/tests/bench/tether_nft_scale [--sizes 1,100,500,1000] [-k 15]

For every size N: the netns is filled to N-1 attachments, then k rounds of one ADD and one DEL of
attachment N (so N stays constant) are run as separate processes, like a plugin:
  wall    the backend call as tether_nft_scale times it (no process start-up)
  kernel  strace -T of the batch's sendto (BATCH_BEGIN...END): the kernel's whole commit work,
          since nf_tables applies a batch inside sendmsg
  calls   strace -c -f of one ADD / DEL, minus `tether_nft_scale noop`
Then a fill/drain series 0..max(sizes) in one process (median per 100). Medians throughout.
Several binaries can be given (e.g. v1 and v2): they are measured in turn, each in its own netns.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

FIRST_X = 5000  # attachment indexes used for the measured ADD/DEL (outside every fill range)


def sh(ns, argv, check=True):
    return subprocess.run(["ip", "netns", "exec", ns] + argv, capture_output=True, text=True, check=check)


def timed(ns, binary, verb, x):
    r = sh(ns, [binary, verb, str(x)])
    return float(re.search(r": (\d+) us", r.stderr).group(1))


def batch_kernel_us(ns, binary, verb, x):
    """strace -T of the batch sendto(s); sums them when a verb sent more than one batch."""
    r = sh(ns, ["strace", "-T", "-e", "trace=sendto,sendmsg", binary, verb, str(x)])
    times = [float(m.group(1)) * 1e6 for line in r.stderr.splitlines() if "NFNL_MSG_BATCH_BEGIN" in line
             for m in [re.search(r"<([0-9.]+)>\s*$", line)] if m]
    return sum(times), len(times)


def syscalls(ns, binary, argv):
    """Calls counted by strace -c -f: its last line is "100.00 <secs> <usecs/call> <calls> [errors] total"."""
    r = sh(ns, ["strace", "-c", "-f", binary] + argv)
    return int([l for l in r.stderr.splitlines() if l.strip().endswith("total")][-1].split()[3])


def measure(binary, sizes, k, label):
    ns = f"tnf2b-{os.getpid()}-{label}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        print(f"== {label}: {binary}")
        have = 0
        for n in sizes:
            if n - 1 > have:
                sh(ns, [binary, "fill", str(have), str(n - 1)])
                have = n - 1
            rows = {"add": [], "del": [], "add_k": [], "del_k": [], "add_b": [], "del_b": []}
            for r in range(k):
                x = FIRST_X + r
                rows["add"].append(timed(ns, binary, "add", x))
                rows["del"].append(timed(ns, binary, "del", x))
                t, b = batch_kernel_us(ns, binary, "add", x)
                rows["add_k"].append(t)
                rows["add_b"].append(b)
                t, b = batch_kernel_us(ns, binary, "del", x)
                rows["del_k"].append(t)
                rows["del_b"].append(b)
            noop = syscalls(ns, binary, ["noop"])
            add_calls = syscalls(ns, binary, ["add", str(FIRST_X)]) - noop
            del_calls = syscalls(ns, binary, ["del", str(FIRST_X)]) - noop
            med = {key: statistics.median(v) for key, v in rows.items()}
            print(f"N={n:5d}  ADD wall {med['add']:7.0f} us  batch(kernel) {med['add_k']:6.0f} us  syscalls {add_calls:3d}"
                  f"  |  DEL wall {med['del']:7.0f} us  batch(kernel) {med['del_k']:6.0f} us  syscalls {del_calls:3d}"
                  f"  (batches per ADD/DEL {med['add_b']:.0f}/{med['del_b']:.0f}, k={k})", flush=True)
        top = max(sizes)
        sh(ns, ["nft", "flush", "ruleset"])  # only this throwaway netns
        fill = sh(ns, [binary, "fill", "0", str(top)]).stdout
        drain = sh(ns, [binary, "drain", "0", str(top)]).stdout
        print(fill + drain, end="", flush=True)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+", help="tether_nft_scale binaries, optionally label=path")
    ap.add_argument("--sizes", default="1,100,500,1000")
    ap.add_argument("-k", type=int, default=15, help="rounds per size")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run.py: needs root (network namespaces)")
    sizes = sorted(int(s) for s in a.sizes.split(","))
    for i, spec in enumerate(a.binaries):
        label, _, path = spec.rpartition("=")
        measure(os.path.abspath(path), sizes, a.k, label or f"b{i}")


if __name__ == "__main__":
    main()
