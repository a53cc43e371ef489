#!/usr/bin/env python3
"""The eBPF observer on a real GPU: does `xsched-ctl observe` see what the application did, and
what does observing cost? Side by side in one call (root):

  1. ResNet-18 bs1 online alone (the reference latency)
  2. the same under the shim (counting every command exactly) while `xsched-ctl observe --pid`
     watches it from its first instruction: the observer's commands (kernel launches + memory
     commands, i.e. asynchronous copies and memsets) against the shim's command count, and its
     burst P50/P99 against the app's own latency from the actual send time (p50_sent_ms /
     p99_sent_ms): both ratios, and whether each is within 10%
  3. the launch microbenchmark with and without the observer

Like for like, and what is not: a burst opens at the first command issued while nothing is in
flight (for ResNet-18 the input's host-to-device copy) and closes when the synchronisation
that drains it returns (the output's copy back); the app's clock also covers the Python work
before the first command and after the return. The shim counts synchronous copies, memsets and
host functions as commands too; the observer does not. The observer's run percentiles include
the app's warm-up requests (--warmup, 30 by default, before the ~200 measured ones).

Writes observe.json and observe.md under --out."""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GPU = os.path.join(HERE, "..", "tests", "gpu")


def last_json(text):
    lines = [l for l in text.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def libcuda():
    """libcuda.so.1 as the dynamic linker finds it, or None."""
    r = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.startswith("libcuda.so.1 ") and "x86-64" in name and os.path.exists(path):
            return path
    return None


def start_observer(a, pid):
    """`xsched-ctl observe --json --pid PID`, returned once it says it is tracing: the
    process's launch and copy probes are then attached (on libcuda.so.1 before the process
    maps it, when ldconfig knows where it is), so nothing it does is missed."""
    cmd = [os.path.join(a.build, "bin", "xsched-ctl"), "observe", "--json", "--interval", "1s",
           "--pid", str(pid)]
    lib = libcuda()
    if lib:
        cmd += ["--lib", lib]
    obs = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, lines = threading.Event(), []

    def read():
        for line in obs.stderr:
            lines.append(line)
            if line.startswith("Tracing"):
                ready.set()
        ready.set()

    obs.stderr_lines = lines
    obs.reader = threading.Thread(target=read, daemon=True)
    obs.reader.start()
    if not ready.wait(120) or obs.poll() is not None:
        obs.kill()
        raise RuntimeError("observer did not start: " + "".join(lines)[-2000:])
    return obs


def online(a, env=None, observe=False):
    cmd = [sys.executable, os.path.join(GPU, "torch_online.py"), "--rate", str(a.rate),
           "--duration", str(a.duration), "--warmup", str(a.warmup)]
    if observe:
        # Held before exec until the observer is tracing its pid (exec keeps the pid).
        cmd = ["sh", "-c", 'read go && exec "$@"', "sh"] + cmd
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if observe else None,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    obs = None
    if observe:
        try:
            obs = start_observer(a, p.pid)
        except RuntimeError:
            p.kill()
            raise
        p.stdin.write("go\n")
        p.stdin.close()
        p.stdin = None
    out, err = p.communicate(timeout=a.duration + 120)
    if p.returncode != 0:
        raise RuntimeError(f"online failed: {err[-2000:]}")
    rows = []
    if obs:
        time.sleep(1.5)
        obs.send_signal(2)
        oout, _ = obs.communicate(timeout=600)
        obs.reader.join(5)
        rows = [json.loads(l) for l in oout.splitlines() if l.startswith("{")]
        if not rows:
            raise RuntimeError("observer printed nothing: " +
                               "".join(obs.stderr_lines)[-2000:])
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


def ratio(observed, own):
    r = observed / own if own else float("nan")
    return {"observed": observed, "own": own, "ratio": r, "within_10pct": abs(r - 1) <= 0.10}


def compare(run, shim, app):
    """The observer against the shim's command count and the app's latency from send."""
    def ms(us):  # null when the observer saw no burst
        return us / 1e3 if us is not None else float("nan")

    return {"commands": ratio(run["commands"], shim),
            "p50": ratio(ms(run["burst_p50_us"]), app["p50_sent_ms"]),
            "p99": ratio(ms(run["burst_p99_us"]), app["p99_sent_ms"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.environ.get("OUT", "bench-out"))
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=int, default=30)
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
          f"| service P50 / P99 from send, observed + shim (ms) | "
          f"{watched['p50_sent_ms']:.3f} / {watched['p99_sent_ms']:.3f} |",
          f"| commands counted by the shim | {shim} |"]
    if run:
        o = run[-1]
        res["comparison"] = cmp = compare(o, shim, watched)
        md += [f"| observer launches + copies = commands | {o['launches']} + {o['copies']} = "
               f"{o['commands']} |",
               f"| observer bursts (requests + {a.warmup} warm-up) | {o['bursts']} |",
               f"| observer burst P50 / P99 (ms) | {cmp['p50']['observed']:.3f} / "
               f"{cmp['p99']['observed']:.3f} |"]
        for k, label in (("commands", "observer commands / shim commands"),
                         ("p50", "observer burst P50 / app P50 from send"),
                         ("p99", "observer burst P99 / app P99 from send")):
            c = cmp[k]
            verdict = "within" if c["within_10pct"] else "NOT within"
            md += [f"| {label} | {c['ratio']:.3f} ({verdict} 10%) |"]
        md += [f"| observer run row | {json.dumps(o)} |"]
    else:
        md += ["| observer run row | none: the observer reported no run for the service |"]
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
