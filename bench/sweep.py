#!/usr/bin/env python3
"""Kernel-size sweep: where does a launch window (Level-1: bounding commands in flight) stop
helping, and what does the controller do about it? C workloads from tests/workloads on the
real GPU, side by side in one call:

  service  `online`: 4 kernels of 100 us + a 4 KiB copy-out per request, open loop
  batch    `batch`: spin kernels of K us back to back, synchronised every iteration

For each batch kernel size K, configurations: native (the driver's time-slicing, or MPS with
--mps), a static window of 1 (xsched-run --window 1), and the controller at a target of
--target x solo P99. A window bounds how many batch kernels a request may find ahead of it,
but never below one: once K exceeds what the service can afford to wait, a window of one is
not enough, and only suspending the batch job while the service is busy, or bounding the GPU
time in flight, can help.

Latencies are taken over requests sent after --settle seconds, in every configuration alike:
the controller needs about a hundred samples to see a P99 before it can act, and the sweep
compares steady states (the load-spike case measures the transient).

Writes sweep.json and sweep.md under --out, and sweep.png where matplotlib is installed."""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import MPS_DIRS, Mps, bad_input, target_ms  # noqa: E402


def last_json(text):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def shimmed(a, prio, cmd, window=None):
    run = [os.path.join(a.build, "bin", "xsched-run"), "--priority", prio]
    if window is not None:
        run += ["--window", str(window)]
    return run + ["--"] + cmd


def service_cmd(a, log):
    return [os.path.join(a.build, "bin", "online"), "--rate", str(a.rate), "--duration",
            str(a.settle + a.duration), "--kernels", "4", "--kernel-us", "100", "--latency-log",
            log]


def settled(a, o, log):
    """The service's figures over requests sent after the settling time (from its latency log:
    due s, send s, latency from send ms, latency from due ms)."""
    with open(log) as f:
        rows = [l.split() for l in f if l.strip() and not l.startswith(("#", "due"))]
        lat = sorted(float(r[2]) for r in rows if float(r[1]) >= a.settle)
    if not lat:
        raise RuntimeError("no request after the settling time")
    o = dict(o, p50_ms=lat[len(lat) // 2], p99_ms=lat[min(len(lat) - 1, int(0.99 * len(lat)))],
             max_ms=lat[-1], measured_requests=len(lat))
    return o


def batch_cmd(a, k_us):
    # About 20 ms of kernels per iteration, at least one kernel.
    per_iter = max(1, int(20000 // k_us))
    return [os.path.join(a.build, "bin", "batch"), "--kernel-us", str(k_us), "--kernels-per-iter",
            str(per_iter), "--duration", "0"]


def point(a, env, k_us, config, target):
    """One batch job of K us kernels beside the service; -> result row."""
    log = os.path.join(a.tmp, f"{k_us}-{config}.lat")
    bcmd, scmd = batch_cmd(a, k_us), service_cmd(a, log)
    if config == "window-1":
        bcmd, scmd = shimmed(a, "low", bcmd, 1), shimmed(a, "high", scmd)
    elif config.startswith("ctl"):
        bcmd, scmd = shimmed(a, "low", bcmd), shimmed(a, "high", scmd)
    ctl = None
    if target is not None:
        ctl_log = open(os.path.join(a.out, f"sweep{'-mps' if a.mps else ''}-{k_us}us-ctl.log"),
                       "w")
        ctl = subprocess.Popen([os.path.join(a.build, "bin", "xsched-ctl"), "run", "--p99-target",
                                f"{target * 1000:.0f}us", "--no-ebpf", "-v"], env=env,
                               stdout=ctl_log, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)
        if ctl.poll() is not None:
            ctl_log.close()
            raise RuntimeError(f"K={k_us} {config}: the controller exited {ctl.returncode}: "
                               + open(ctl_log.name).read()[-800:])
    b = subprocess.Popen(bcmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    s = subprocess.run(scmd, env=env, capture_output=True, text=True,
                       timeout=a.settle + a.duration + 60)
    b.send_signal(signal.SIGINT)
    bout, berr = b.communicate(timeout=60)
    if ctl:
        ctl.send_signal(signal.SIGINT)
        ctl.communicate(timeout=60)
        ctl_log.close()
    o, br = last_json(s.stdout), last_json(bout)
    if o is None or br is None:
        raise RuntimeError(f"K={k_us} {config}: service {s.stderr[-800:]} batch {berr[-800:]}")
    o = settled(a, o, log)
    return {"kernel_us": k_us, "config": config, "target_ms": target, "online": o, "batch": br}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.environ.get("OUT", "bench-out"))
    ap.add_argument("--kernels", default="50,500,2000,10000,40000",
                    help="batch kernel sizes in us, comma-separated")
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--duration", type=float, default=5, help="measured seconds")
    ap.add_argument("--settle", type=float, default=3, help="unmeasured seconds first")
    ap.add_argument("--target", default="x1.5", help="controller target: x1.5 (of solo P99) "
                    "or a duration such as 2ms")
    ap.add_argument("--mps", action="store_true")
    a = ap.parse_args()
    try:
        sizes = [int(x) for x in a.kernels.split(",")]
    except ValueError:
        bad_input(f"sweep: bad --kernels {a.kernels!r}: want comma-separated integers")
    os.makedirs(a.out, exist_ok=True)
    a.tmp = tempfile.mkdtemp(prefix="xsched-sweep-")
    env = dict(os.environ, XSCHED_LOG="quiet", **(MPS_DIRS if a.mps else {}))
    ctx = Mps() if a.mps else None
    if ctx:
        ctx.__enter__()
    rows = []
    try:
        log = os.path.join(a.tmp, "solo.lat")
        solo = last_json(subprocess.run(service_cmd(a, log), env=env, capture_output=True,
                                        text=True, timeout=a.settle + a.duration + 60).stdout)
        if solo is None:
            raise SystemExit("sweep: the service failed alone")
        solo = settled(a, solo, log)
        target = target_ms(a.target, solo["p99_ms"])
        for k in sizes:
            for config, t in (("native", None), ("window-1", None), ("ctl", target)):
                try:
                    r = point(a, env, k, config, t)
                except (RuntimeError, subprocess.SubprocessError) as e:
                    print(f"sweep: {e}", file=sys.stderr)
                    continue
                print(f"K={k}us {config}: P99 {r['online']['p99_ms']:.2f} ms, batch "
                      f"{r['batch']['kernel_us_per_s'] / 1e6:.3f} GPU-s/s", file=sys.stderr)
                rows.append(r)
    finally:
        if ctx:
            ctx.__exit__(None, None, None)

    native = {r["kernel_us"]: r["batch"]["kernel_us_per_s"] for r in rows
              if r["config"] == "native"}
    md = [f"Service: {a.rate:g} req/s, 4 x 100 us kernels, measured over {a.duration:g} s after "
          f"{a.settle:g} s of settling; solo P50/P99 {solo['p50_ms']:.3f} / "
          f"{solo['p99_ms']:.3f} ms; controller target {target:.3f} ms "
          f"({a.target}){' ; under MPS' if a.mps else ''}.", "",
          "| batch kernel | configuration | P50 ms | P99 ms | max ms | P99 / solo | target"
          " | batch GPU-s/s | batch vs native |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        o, k = r["online"], r["kernel_us"]
        ref = native.get(k)
        share = f"{100 * r['batch']['kernel_us_per_s'] / ref:.1f}%" if ref else "-"
        held = "-" if r["target_ms"] is None else ("held" if o["p99_ms"] <= r["target_ms"]
                                                   else "MISSED")
        md.append(f"| {k} us | {r['config']} | {o['p50_ms']:.3f} | {o['p99_ms']:.3f} | "
                  f"{o['max_ms']:.3f} | {o['p99_ms'] / solo['p99_ms']:.2f}x | {held} | "
                  f"{r['batch']['kernel_us_per_s'] / 1e6:.3f} | {share} |")
    text = "\n".join(md) + "\n"
    print(text)
    name = "sweep-mps" if a.mps else "sweep"
    with open(os.path.join(a.out, f"{name}.json"), "w") as f:
        json.dump({"args": vars(a), "solo": solo, "target_ms": target, "rows": rows}, f,
                  indent=1)
    with open(os.path.join(a.out, f"{name}.md"), "w") as f:
        f.write(text)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for config in ("native", "window-1", "ctl"):
        pts = [(r["kernel_us"], r["online"]["p99_ms"]) for r in rows if r["config"] == config]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=config)
    ax.axhline(solo["p99_ms"], ls="--", color="gray", lw=0.8, label="solo P99")
    ax.axhline(target, ls=":", color="red", lw=0.8, label="target")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch kernel duration, us")
    ax.set_ylabel("service P99, ms")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{name}.png"), dpi=110)


if __name__ == "__main__":
    main()
