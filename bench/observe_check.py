#!/usr/bin/env python3
"""The eBPF observer on a real GPU: does `xsched-ctl observe` see what the application did, and
what does observing cost? Side by side in one call (root):

  1. ResNet-18 bs1 online alone (the reference latency)
  2. the same under the shim (counting every command exactly) while `xsched-ctl observe --pid`
     watches it: the observer's launches and burst P50/P99 against the shim's count and the
     app's own latency
  3. the launch microbenchmark with and without the observer

Writes observe.json and observe.md under --out."""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GPU = os.path.join(HERE, "..", "tests", "gpu")


def last_json(text):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def online(a, env=None, observe=False):
    cmd = [sys.executable, os.path.join(GPU, "torch_online.py"), "--rate", str(a.rate),
           "--duration", str(a.duration)]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    obs = None
    if observe:
        obs = subprocess.Popen([os.path.join(a.build, "bin", "xsched-ctl"), "observe", "--json",
                                "--interval", "1s", "--pid", str(p.pid)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=a.duration + 120)
    if p.returncode != 0:
        raise RuntimeError(f"online failed: {err[-2000:]}")
    rows = []
    if obs:
        time.sleep(1.5)
        obs.send_signal(2)
        oout, oerr = obs.communicate(timeout=120)
        rows = [json.loads(l) for l in oout.splitlines() if l.startswith("{")]
        if not rows:
            raise RuntimeError(f"observer printed nothing: {oerr[-2000:]}")
    return last_json(out), rows, p.pid


def launchbench(a, observe):
    lb = [os.path.join(a.build, "bin", "launchbench"), "--launches", "100000"]
    obs = None
    if observe:
        obs = subprocess.Popen([os.path.join(a.build, "bin", "xsched-ctl"), "observe", "--json",
                                "--interval", "1s"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        time.sleep(2)
    r = subprocess.run(lb, capture_output=True, text=True, timeout=300)
    if obs:
        obs.send_signal(2)
        obs.communicate(timeout=120)
    return last_json(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.environ.get("OUT", "bench-out"))
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--duration", type=float, default=10)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    testctl = os.path.join(a.build, "bin", "xsched-testctl")
    shm = f"xsched-observe-{os.getpid()}"

    alone, _, _ = online(a)
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(os.path.join(a.build, "lib",
                                                                   "libxsched.so")),
               XSCHED_SHM=shm, XSCHED_LOG="quiet")
    watched, rows, pid = online(a, env=env, observe=True)
    dump = json.loads(subprocess.run([testctl, "--dump", "--shm", shm], capture_output=True,
                                     text=True, check=True).stdout)
    shim = sum(g["launches"] for p in dump["procs"] if p["pid"] == pid for g in p["gpus"])
    run = [r for r in rows if r.get("scope") == "run" and r.get("pid") == pid]
    lb = {False: launchbench(a, False), True: launchbench(a, True)}

    res = {"alone": alone, "watched": watched, "observer_run": run, "shim_commands": shim,
           "launchbench": {str(k): v for k, v in lb.items()}}
    md = ["| measure | value |", "|---|---|",
          f"| service P50 / P99 alone (ms) | {alone['p50_ms']:.3f} / {alone['p99_ms']:.3f} |",
          f"| service P50 / P99 observed + shim (ms) | {watched['p50_ms']:.3f} / "
          f"{watched['p99_ms']:.3f} |",
          f"| commands counted by the shim | {shim} |"]
    if run:
        o = run[-1]
        md += [f"| observer run row | {json.dumps(o)} |"]
    md += [f"| launchbench ns/launch without / with observer | {lb[False]['ns_per_launch']:.0f}"
           f" / {lb[True]['ns_per_launch']:.0f} |"]
    text = "\n".join(md) + "\n"
    print(text)
    with open(os.path.join(a.out, "observe.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.out, "observe.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
