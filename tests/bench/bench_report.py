#!/usr/bin/env python3
"""Turns cnibench JSON (and verb_probe JSON) into the markdown tables of the README's Performance
section: medians, p90, tether/reference ratios with the issue-6 targets, the kernel floor.

usage: bench_report.py --main main.json [--compare compare.json ...] [--scale scale.json ...]
                       [--verbs verbs.json] [--ours tether-nft --ours tether-ipt ...] [--ref ref]
"""
import argparse
import json
import os
import statistics

LATENCY = [  # (config, op, target ratio ours/ref or None, what)
    ("ipam", "ADD", 1 / 4, "IPAM alone (tether-ipam vs host-local)"),
    ("ipam", "DEL", 1 / 4, "IPAM alone (tether-ipam vs host-local)"),
    ("bridge", "ADD", 1 / 3, "bridge + IPAM"),
    ("bridge", "DEL", None, "bridge + IPAM"),
    ("bridge-masq", "ADD", None, "bridge + IPAM + ipMasq"),
    ("bridge-masq", "DEL", None, "bridge + IPAM + ipMasq"),
    ("bridge-masq-portmap", "ADD", 1 / 10, "full: bridge + IPAM + ipMasq + 2 port mappings"),
    ("bridge-masq-portmap", "DEL", 1 / 2.5, "full: bridge + IPAM + ipMasq + 2 port mappings"),
]


def ms(x):
    return "–" if x is None else f"{x:.2f}"


def ratio_txt(r, target):
    if r is None:
        return "–", ""
    verdict = "" if target is None else (" ✅" if r <= target else " ❌")
    return f"{r:.3f}", (f"≤ {target:.3f}{verdict}" if target else "")


def loadavg(sc):
    a, b = sc.get("loadavg_before"), sc.get("loadavg_after")
    if not a or not b:
        return "?"
    return f"{a[0]:.1f}→{b[0]:.1f}"


def latency_table(d, ours, ref):
    sc = d["scenarios"].get("latency")
    if not sc:
        return
    by = {(c["set"], c["config"]): c for c in sc["configs"]}
    print(f"\n#### Latency: one container ADD then DEL, R={sc['R']}, sets and configs interleaved "
          f"(ms; loadavg {loadavg(sc)})\n")
    print(f"| config | op | {ours} med | {ours} p90 | {ref} med | {ref} p90 | ratio (med) | target |")
    print("|---|---|---|---|---|---|---|---|")
    for cfg, op, target, what in LATENCY:
        a, b = by.get((ours, cfg)), by.get((ref, cfg))
        if not a or not b:
            continue
        sa, sb = a[op.lower()]["summary"], b[op.lower()]["summary"]
        r = sa["median"] / sb["median"] if sa.get("median") and sb.get("median") else None
        rt, tt = ratio_txt(r, target)
        print(f"| {cfg} | {op} | {ms(sa.get('median'))} | {ms(sa.get('p90'))} | "
              f"{ms(sb.get('median'))} | {ms(sb.get('p90'))} | {rt} | {tt} |")


def compare_table(d):
    sc = d["scenarios"].get("compare")
    if not sc:
        return
    print(f"\n#### compare (A={sc['A']}, B={sc['B']}, R={sc['R']}, per-iteration A/B ratios)\n")
    print("| op | A med | B med | median of A/B |\n|---|---|---|---|")
    for op in ("add", "del"):
        o = sc[op]
        print(f"| {op.upper()} | {ms(o.get('median_A_ms'))} | {ms(o.get('median_B_ms'))} | {ms(o.get('ratio_median'))} |")


def concurrency_table(d, ours, ref):
    sc = d["scenarios"].get("concurrency")
    if not sc:
        return
    runs = {(r["set"], r["C"]): r for r in sc["runs"]}
    cs = sorted({r["C"] for r in sc["runs"]})
    print("\n#### Concurrency: C parallel full ADDs (barrier), then C parallel DELs; wall = first start "
          "to last finish (ms)\n")
    print(f"| C | {ours} ADD wall | {ref} ADD wall | ratio | target | {ours} DEL wall | {ref} DEL wall | "
          f"ratio | ok ({ours}/{ref}) | loadavg |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in cs:
        a, b = runs.get((ours, c)), runs.get((ref, c))
        if not a or not b:
            continue
        ra = a["add_wall_ms"] / b["add_wall_ms"]
        rd = a["del_wall_ms"] / b["del_wall_ms"]
        rt, tt = ratio_txt(ra, 1 / 5 if c == 32 else None)
        ok = f"{a['add_ok']}+{a['del_ok']} / {b['add_ok']}+{b['del_ok']} of {c}+{c}"
        la = f"{a['loadavg_before'][0]:.1f}, {b['loadavg_before'][0]:.1f}"
        print(f"| {c} | {ms(a['add_wall_ms'])} | {ms(b['add_wall_ms'])} | {rt} | {tt} | {ms(a['del_wall_ms'])} | "
              f"{ms(b['del_wall_ms'])} | {rd:.3f} | {ok} | {la} |")


def scale_table(docs):
    runs = [r for d in docs for r in d["scenarios"].get("scale", {}).get("runs", [])]
    if not runs:
        return
    print("\n#### Scale: N containers ADDed one after another on one bridge (ipMasq + 1 port mapping each), "
          "then DELed in ADD order (ms)\n")
    print("| set | N | ADD 1–10 med | ADD ~N/2 med | ADD last 10 med (p90) | growth last/first | "
          "ADD 1–100 med | ADD last 100 med | growth (100s) | target | "
          "DEL first 10 med | DEL last 10 med | nat rules at N (ours) | ADD / DEL phase (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        w = r["windows"]
        g = r.get("ADD_growth_last_over_first")
        # The nftables target: median ADD of the last 100 containers <= 1.3x that of the first 100.
        add = [ns / 1e6 for ns in r.get("add_ns", []) if ns is not None]
        f100 = statistics.median(add[:100]) if len(add) >= 200 else None
        l100 = statistics.median(add[-100:]) if len(add) >= 200 else None
        g100 = l100 / f100 if f100 and l100 else None
        tgt = ("≤ 1.3" + (" ✅" if g100 is not None and g100 <= 1.3 else " ❌")) if r["N"] >= 1000 and "nft" in r["set"] else ""
        nat = r.get("nat_at_end_of_add") or {}
        rules = [f"{v.get('rules_mine')}" for v in nat.values() if isinstance(v, dict) and v.get("rules_mine")]
        print(f"| {r['set']} | {r['N']} | {ms(w['ADD_first10']['summary'].get('median'))} | "
              f"{ms(w['ADD_mid10']['summary'].get('median'))} | {ms(w['ADD_last10']['summary'].get('median'))} "
              f"({ms(w['ADD_last10']['summary'].get('p90'))}) | {ms(g)} | {ms(f100)} | {ms(l100)} | {ms(g100)} | {tgt} | "
              f"{ms(w['DEL_first10']['summary'].get('median'))} | {ms(w['DEL_last10']['summary'].get('median'))} | "
              f"{'/'.join(rules) or '?'} | {r.get('add_phase_s', 0):.1f} / {r.get('del_phase_s', 0):.1f} |")


def floor_table(d):
    sc = d["scenarios"].get("floor")
    if not sc:
        return
    print(f"\n#### Floor: exec cost and the same kernel work done by `ip -batch` (ms, {sc['reps']} reps)\n")
    print("| item | med | p90 |\n|---|---|---|")
    for name, it in sc["items"].items():
        s = it.get("summary")
        if s:
            print(f"| {name} | {ms(s.get('median'))} | {ms(s.get('p90'))} |")
        elif "median_ms" in it:
            print(f"| {name} | {ms(it['median_ms'])} | |")


def execs_table(d):
    sc = d["scenarios"].get("execs")
    if not sc:
        return
    print("\n#### Child processes per plugin exec (strace -f -e execve, steady state)\n")
    print("| set | config | op / plugin | children | by binary |\n|---|---|---|---|---|")
    for rec in sc.get("configs", []):
        for key, o in rec["ops"].items():
            bb = " ".join(f"{k}={v}" for k, v in sorted(o["by_binary"].items())) or "–"
            print(f"| {rec['set']} | {rec['config']} | {key} | {o['children']} | {bb} |")


def verbs_tables(v):
    print(f"\n#### Verbs cnibench does not time ({v['label']}, full config, interleaved; loadavg "
          f"{v['loadavg_before'][0]:.1f}→{v['loadavg_after'][0]:.1f})\n")
    print("| verb | median ms | p90 ms | target |\n|---|---|---|---|")
    for verb, s in v["timing"].items():
        tgt = ("≤ 2 ms" + (" ✅" if s["median"] <= 2 else " ❌")) if verb == "STATUS" else ""
        print(f"| {verb} | {ms(s['median'])} | {ms(s['p90'])} | {tgt} |")
    if v.get("syscalls"):
        print("\n#### Syscalls and child processes per verb (strace -f -c, steady state)\n")
        print("| config | verb | syscalls | child processes | most frequent |\n|---|---|---|---|---|")
        for name, rows in v["syscalls"].items():
            for verb, r in rows.items():
                print(f"| {name} | {verb} | {r['total']} | {r['children']} | {r['top']} |")


def machine(d):
    m = d["meta"]
    print(f"Machine: {m.get('cpu')} × {m.get('nproc')} vCPU, {m.get('mem_mib')} MiB, kernel {m.get('kernel')}, "
          f"{m.get('os')}; run {m.get('date')}. Reference: "
          + ", ".join(f"{s['label']} = {s.get('package') or s.get('cni_path')} (iptables {s.get('iptables_mode')})"
                      for s in m.get("sets", [])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--main", required=True)
    ap.add_argument("--scale", action="append", default=[])
    ap.add_argument("--verbs")
    ap.add_argument("--compare", action="append", default=[])
    ap.add_argument("--ours", action="append", default=[])
    ap.add_argument("--ref", default="ref")
    a = ap.parse_args()
    d = json.load(open(a.main))
    machine(d)
    for ours in a.ours or ["tether"]:
        latency_table(d, ours, a.ref)
    compare_table(d)
    for f in a.compare:
        if os.path.exists(f):
            compare_table(json.load(open(f)))
    for ours in a.ours or ["tether"]:
        concurrency_table(d, ours, a.ref)
    scale_table([json.load(open(f)) for f in a.scale if os.path.exists(f)])
    floor_table(d)
    execs_table(d)
    if a.verbs and os.path.exists(a.verbs):
        verbs_tables(json.load(open(a.verbs)))
    fails = d.get("failures", [])
    if fails:
        print(f"\ncnibench reported {len(fails)} failure(s):")
        for f in fails:
            print(f"- [{f['scenario']}] {f['msg'][:200]}")


if __name__ == "__main__":
    main()
