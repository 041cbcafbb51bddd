#!/usr/bin/env python3
"""Per-verb cost of the tether plugin: syscall counts (strace -f -c), child processes and the
latency of the verbs cnibench does not time (STATUS, VERSION, CHECK).

Runs the plugin in the CURRENT network namespace (it creates a bridge, a veth and nat rules there),
so run it only inside a throwaway netns: scripts/bench.sh does that. Writes JSON (--json-out) and
prints markdown tables.

The config is the full one: bridge + in-process tether-ipam + ipMasq + 2 port mappings, once per
firewall backend (nftables, iptables), and bridge only.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def conf_for(bridge, subnet, data_dir, ipam_type, masq=True, ports=True, backend="auto"):
    c = {"cniVersion": "1.0.0", "name": f"vp-{bridge}", "type": "tether", "bridge": bridge,
         "isGateway": True, "ipMasq": masq, "firewallBackend": backend,
         "stateDir": os.path.join(data_dir, ".state"),
         "ipam": {"type": ipam_type, "ranges": [[{"subnet": subnet}]],
                  "routes": [{"dst": "0.0.0.0/0"}], "dataDir": data_dir}}
    if ports:
        c["runtimeConfig"] = {"portMappings": [
            {"hostPort": 43100, "containerPort": 80, "protocol": "tcp"},
            {"hostPort": 43101, "containerPort": 53, "protocol": "udp"}]}
    return c


class Plugin:
    def __init__(self, bin_dir, netns_prefix, cni_path):
        self.bin = os.path.join(bin_dir, "tether")
        self.prefix = netns_prefix
        self.cni_path = cni_path
        self.netns = []  # one netns per container id, created on first use
        self.results = {}  # cid -> ADD result, the prevResult of CHECK

    def netns_path(self, cid):
        name = f"{self.prefix}-{cid}"
        if name not in self.netns:
            subprocess.run(["ip", "netns", "add", name], check=True)
            self.netns.append(name)
        return f"/var/run/netns/{name}"

    def cleanup(self):
        for n in self.netns:
            subprocess.run(["ip", "netns", "del", n])

    def env(self, verb, cid):
        e = dict(os.environ)
        e.update(CNI_COMMAND=verb, CNI_CONTAINERID=cid, CNI_IFNAME="eth0", CNI_PATH=self.cni_path,
                 CNI_NETNS=self.netns_path(cid) if verb in ("ADD", "CHECK", "DEL") else "")
        return e

    def run(self, verb, cid, conf, prefix=()):
        if verb == "CHECK":
            conf = dict(conf, prevResult=self.results[cid])
        if verb == "STATUS":
            conf = dict(conf, cniVersion="1.1.0")  # STATUS exists from CNI 1.1.0 on
        data = json.dumps(conf).encode()
        t = time.perf_counter_ns()
        p = subprocess.run([*prefix, self.bin], input=data, env=self.env(verb, cid),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dt = time.perf_counter_ns() - t
        if p.returncode != 0:
            raise RuntimeError(f"{verb} failed rc={p.returncode}: {p.stdout[:300]!r} {p.stderr[:300]!r}")
        if verb == "ADD":
            self.results[cid] = json.loads(p.stdout)
        return dt, p.stdout


def parse_strace_c(path):
    """strace -c summary -> (total calls, {syscall: calls})."""
    calls = {}
    for line in open(path):
        m = re.match(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
        if m:
            if m.group(2) != "total":
                calls[m.group(2)] = int(m.group(1))
    return sum(calls.values()), calls


def strace_verb(plugin, verb, cid, conf, tmp):
    out = os.path.join(tmp, f"{verb}.strace")
    plugin.run(verb, cid, conf, prefix=("strace", "-f", "-c", "-o", out))
    total, calls = parse_strace_c(out)
    # the plugin's own execve is 1; anything else is a child process
    children = calls.get("execve", 1) - 1
    forks = sum(calls.get(k, 0) for k in ("clone", "clone3", "fork", "vfork"))
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
    return {"total": total, "children": children, "forks": forks, "calls": calls,
            "top": " ".join(f"{k}={v}" for k, v in top)}


def summarize(ns):
    v = sorted(ns)
    return {"n": len(v), "median": statistics.median(v) / 1e6, "p90": v[min(len(v) - 1, (len(v) * 9) // 10)] / 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", required=True, help="directory holding tether and tether-ipam")
    ap.add_argument("--label", default="tether")
    ap.add_argument("-R", type=int, default=100, help="repetitions for the timed verbs")
    ap.add_argument("--subnet", default="10.202.0.0/24")
    ap.add_argument("--data-dir", default="/tmp/tether-verb-probe")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("verb_probe: needs root (run it through scripts/bench.sh, inside a throwaway netns)")

    tag = f"vp{os.getpid()}"
    bridge = f"vpbr{os.getpid() % 100000}"
    tmp = tempfile.mkdtemp(prefix="tether-vp-")
    plugin = Plugin(a.bin_dir, tag, a.bin_dir)
    out = {"label": a.label, "syscalls": {}, "timing": {}, "loadavg_before": os.getloadavg()}
    confs = {"full, nftables": conf_for(bridge, a.subnet, a.data_dir, "tether-ipam", backend="nftables"),
             "full, iptables": conf_for(bridge, a.subnet, a.data_dir, "tether-ipam", backend="iptables"),
             "bridge only": conf_for(bridge, a.subnet, a.data_dir, "tether-ipam", False, False)}
    have_strace = shutil.which("strace") is not None
    try:
        for name, conf in confs.items():
            plugin.run("ADD", "warm", conf)  # bridge + shared chains exist: steady state
            rows = {}
            if have_strace:
                for verb in ("ADD", "CHECK", "DEL", "STATUS", "VERSION"):
                    rows[verb] = strace_verb(plugin, verb, "probe", conf, tmp)
                plugin.run("DEL", "probe", conf)  # strace'd DEL ran; this one finds nothing
            out["syscalls"][name] = rows
            if name == "full, nftables":
                st, ve, ch = [], [], []
                plugin.run("ADD", "timed", conf)
                for _ in range(a.R):  # interleaved
                    st.append(plugin.run("STATUS", "x", conf)[0])
                    ve.append(plugin.run("VERSION", "x", conf)[0])
                    ch.append(plugin.run("CHECK", "timed", conf)[0])
                plugin.run("DEL", "timed", conf)
                out["timing"] = {"STATUS": summarize(st), "VERSION": summarize(ve), "CHECK": summarize(ch)}
            plugin.run("DEL", "warm", conf)
    finally:
        plugin.cleanup()
        subprocess.run(["ip", "link", "del", bridge], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(a.data_dir, ignore_errors=True)
    out["loadavg_after"] = os.getloadavg()

    la = f"loadavg {out['loadavg_before'][0]:.1f}->{out['loadavg_after'][0]:.1f}"
    print(f"\n#### {a.label}: verbs not timed by cnibench (R={a.R}, interleaved; {la})\n")
    print("| verb | median ms | p90 ms |\n|---|---|---|")
    for verb, s in out["timing"].items():
        print(f"| {verb} | {s['median']:.2f} | {s['p90']:.2f} |")
    if have_strace:
        print(f"\n#### {a.label}: syscalls and child processes per verb (strace -f -c, steady state)\n")
        print("| config | verb | syscalls | child processes | most frequent |\n|---|---|---|---|---|")
        for name, rows in out["syscalls"].items():
            for verb, r in rows.items():
                print(f"| {name} | {verb} | {r['total']} | {r['children']} | {r['top']} |")
    else:
        print("\n(strace not installed: syscall counts skipped)")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
