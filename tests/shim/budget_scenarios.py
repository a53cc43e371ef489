#!/usr/bin/env python3
"""The time-bounded window and the gate's wake-up, on the simulated GPU, as real processes.

usage: budget_scenarios.py --build DIR [--vendor cuda|hip] SCENARIO

Ground truth from the device model (`simgpu stats --json`): per process, the longest time one
of its commands waited for the device behind other processes' work (`wait_max_us`), and the
refill gaps (`gap_p50_us`...: how long after its previous command completed a process with
nothing queued submitted the next). Exit 0: passed; 1: failed; 77: not built.

Scenarios:
  budget  fifo device; a batch job mixing 2 us and 5 ms kernels (every second one long) beside
          an online service. With a count window W = 8 alone, an online command waits behind
          more than B + one long kernel of batch work (B = 6 ms); with the same window and a
          time budget B, set by XSCHED_BUDGET and, in a second run, by a controller's grant,
          no online command waits longer than B plus one long kernel, and the batch job
          keeps most of its throughput. A bad XSCHED_BUDGET passes through, said once.
  wake    the gate's wake-up: a process held at window 1 (and one held by a budget) launches
          its next kernel when the previous completes; the refill gap's median must stay
          within 100 us of the same loop without the shim that synchronises itself (the
          simulator's own wake-up is the floor both share). Median, P90 and P99 are printed;
          the median is the statistic judged, as the only one a shared 2-core machine does
          not move by milliseconds. Then the throughput of 100 us kernels (10k per second)
          with and without the shim, window unlimited, 8, 2 and a budget: printed, and the
          unlimited shim must keep 95 % of the unshimmed throughput.
"""
import argparse
import os
import subprocess
import sys
import time

import shim_scenarios as ss

BUDGET_US = 6000
LONG_US = 5000
MIX = f"2:{LONG_US}:2"


def batch_mixed(seconds):
    return ss.wl("batch", "--mix", MIX, "--kernels-per-iter", "16", "--sync", "none",
                 "--duration", seconds)


def online(seconds):
    return ss.wl("online", "--rate", "20", "--duration", seconds, "--kernels", "4",
                 "--kernel-us", "200", "--warmup", "0")


def row_of(rows, pid):
    for r in rows:
        if r["pid"] == pid:
            return r
    return None


def mixed_run(env, sim, batch_env, grant=None):
    """Batch (low) beside online (high, from 1 s on); grant: a testctl `set` line's
    arguments for the batch process. Returns (online row, batch row, batch JSON, dump)."""
    ctl = None
    if grant:
        ctl = subprocess.Popen([ss.bin_path("xsched-testctl"), "--stdin"], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        time.sleep(0.2)
    b = subprocess.Popen(batch_mixed("4"), env=batch_env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if ctl:
        ctl.stdin.write(f"wait {b.pid}\nset {b.pid} {grant}\n")
        ctl.stdin.flush()
    time.sleep(1.0)
    rc, out, err = ss.run(online("2"), ss.shimmed(env, priority="high"))
    d = None
    if ctl:
        d = ss.dump(env)
    bout, berr = b.communicate(timeout=60)
    if ctl:
        ctl.stdin.write("quit\n")
        ctl.stdin.close()
        ctl.wait(timeout=10)
    rows = sim.stats()
    o = ss.json_line(out)
    opid = None
    for r in rows:
        if r["comm"].startswith("online"):
            opid = r["pid"]
    return row_of(rows, opid), row_of(rows, b.pid), ss.json_line(bout), d, berr


def scenario_budget(env, check):
    bound = BUDGET_US + LONG_US
    with ss.Sim(env, "fifo") as sim:
        o, b, bj, _, _ = mixed_run(env, sim, ss.shimmed(env, priority="low", window=8))
        check(o and b and bj, "count window 8: both ran")
        count_wait = o["wait_max_us"] if o else 0
        count_tput = bj["kernel_us_per_s"] if bj else 0
        print(f"count window 8: online max wait behind batch {count_wait:.0f} us, batch "
              f"{count_tput / 1e4:.1f} % of the GPU", flush=True)
        check(count_wait > bound, f"count window alone: an online command waited "
              f"{count_wait:.0f} us > B + one kernel = {bound} us")
    with ss.Sim(env, "fifo") as sim:
        o, b, bj, _, berr = mixed_run(env, sim, ss.shimmed(env, priority="low", window=8,
                                                          budget=f"{BUDGET_US}us"))
        check(o and b and bj, "XSCHED_BUDGET: both ran")
        check(f"budget {BUDGET_US // 1000}ms" in berr, f"start line names the budget: "
              f"{berr.strip()}")
        w = o["wait_max_us"] if o else 1e9
        t = bj["kernel_us_per_s"] if bj else 0
        print(f"window 8 + XSCHED_BUDGET {BUDGET_US} us: online max wait {w:.0f} us over "
              f"{o and o['started']} commands, batch {t / 1e4:.1f} % of the GPU", flush=True)
        check(w <= bound, f"XSCHED_BUDGET: online max wait {w:.0f} us <= B + one kernel "
              f"= {bound} us")
        check(t >= 0.8 * count_tput, f"XSCHED_BUDGET: batch throughput {t:.0f} >= 80 % of "
              f"the count window's {count_tput:.0f}")
    with ss.Sim(env, "fifo") as sim:
        o, b, bj, d, _ = mixed_run(env, sim, ss.shimmed(env, priority="low", window=1),
                                   grant=f"busy=8 idle=8 budget={BUDGET_US}")
        check(o and b and bj, "granted budget: both ran")
        w = o["wait_max_us"] if o else 1e9
        t = bj["kernel_us_per_s"] if bj else 0
        print(f"grant window 8 + budget {BUDGET_US} us: online max wait {w:.0f} us, batch "
              f"{t / 1e4:.1f} % of the GPU", flush=True)
        check(w <= bound, f"granted budget: online max wait {w:.0f} us <= {bound} us")
        p = ss.proc_of(d, b["pid"]) if d and b else None
        g = p["gpus"][0] if p and p["gpus"] else {}
        print(f"shim's view: {g}", flush=True)
        check(g.get("budget_applied_us") == BUDGET_US and g.get("window") == 8,
              "the shim applied the granted window 8 and budget")
        check(0.8 * LONG_US <= g.get("cmd_max_us", 0) <= 1.6 * LONG_US,
              f"learned longest kernel {g.get('cmd_max_us')} us ~ {LONG_US} us")
    with ss.Sim(env, "fifo") as sim:
        rc, out, err = ss.run(ss.wl("batch", "--kernel-us", "100", "--iters", "2"),
                              ss.shimmed(env, budget="6"))
        lines = [l for l in err.splitlines() if l.strip()]
        check(rc == 0 and ss.json_line(out), "bad XSCHED_BUDGET: the program still runs")
        check(len(lines) == 1 and "bad XSCHED_BUDGET '6'" in lines[0] and "accepted" in
              lines[0], f"bad XSCHED_BUDGET: one line naming it: {err.strip()}")


def gap_run(env, cmd, shim_settings=None):
    with ss.Sim(env, "fifo") as sim:
        e = ss.shimmed(env, **shim_settings) if shim_settings is not None else env
        rc, out, err = ss.run(cmd, e)
        rows = [r for r in sim.stats() if r["comm"].startswith("batch")]
        return rc, ss.json_line(out), rows[0] if rows else None


def scenario_wake(env, check):
    held = ss.wl("batch", "--kernel-us", "200", "--kernels-per-iter", "1000", "--sync", "none",
                 "--duration", "2")
    selfsync = ss.wl("batch", "--kernel-us", "200", "--kernels-per-iter", "1", "--duration",
                     "2")
    _, _, native = gap_run(env, selfsync)
    _, _, w1 = gap_run(env, held, {"window": 1})
    _, _, bud = gap_run(env, held, {"budget": "150us"})

    def show(name, r):
        print(f"{name:34s} gaps {r['gaps']:6d}  P50 {r['gap_p50_us']:8.1f} us  P90 "
              f"{r['gap_p90_us']:8.1f} us  P99 {r['gap_p99_us']:8.1f} us", flush=True)

    if not check(native and w1 and bud, "the three wake-up runs ran"):
        return
    show("no shim, stream sync per kernel", native)
    show("shim, window 1", w1)
    show("shim, budget 150us (kernel 200us)", bud)
    for name, r in (("window 1", w1), ("budget", bud)):
        check(r["gaps"] > 1000, f"{name}: {r['gaps']} launches held until a completion")
        check(r["gap_p50_us"] <= native["gap_p50_us"] + 100,
              f"{name}: gate wake-up median {r['gap_p50_us']:.1f} us <= the simulator's own "
              f"{native['gap_p50_us']:.1f} us + 100 us")
    small = ss.wl("batch", "--kernel-us", "100", "--kernels-per-iter", "1000", "--sync", "none",
                  "--duration", "2")
    base = gap_run(env, small)[1]
    res = {}
    for name, st in (("unlimited", {"window": "unlimited"}), ("window 8", {"window": 8}),
                     ("window 2", {"window": 2}), ("budget 1ms", {"budget": "1ms"})):
        res[name] = gap_run(env, small, st)[1]
    if not check(base and all(res.values()), "the small-kernel runs ran"):
        return
    print(f"100 us kernels, no shim: {base['launches'] / base['seconds']:.0f} kernels/s",
          flush=True)
    for name, r in res.items():
        print(f"100 us kernels, shim {name:10s}: {r['launches'] / r['seconds']:.0f} kernels/s,"
              f" {100 * r['kernel_us_per_s'] / base['kernel_us_per_s']:.1f} % of no shim",
              flush=True)
    u = res["unlimited"]["kernel_us_per_s"] / base["kernel_us_per_s"]
    check(u >= 0.95, f"unlimited shim keeps {100 * u:.1f} % >= 95 % of the throughput")


SCENARIOS = {"budget": scenario_budget, "wake": scenario_wake}


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--vendor", choices=sorted(ss.SIM_LIBS), default="cuda")
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    a = ap.parse_args()
    ss.BUILD, ss.VENDOR = a.build, a.vendor
    needs = [ss.lib_path(), ss.bin_path("xsched-testctl"), ss.bin_path("simgpu"),
             ss.bin_path("online"), ss.bin_path("batch"),
             os.path.join(a.build, "sim", "lib", ss.SIM_LIBS[a.vendor])]
    missing = [n for n in needs if not os.path.exists(n)]
    if missing:
        print("skipped: not built: " + ", ".join(missing))
        return ss.SKIP
    env = ss.base_env()
    env.pop("XSCHED_BUDGET", None)
    check = ss.Checks()
    SCENARIOS[a.scenario](env, check)
    print("PASS" if check.ok else "FAIL")
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
