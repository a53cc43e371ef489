#!/usr/bin/env python3
"""What the shim costs an application that it does not throttle, measured side by side in one
call on a real GPU: native and shimmed runs alternate (A B A B) so that drift hits both.

  service: ResNet-18 bs=1 online alone, shim at high priority  -> P50/P99 ratio
  batch:   ResNet-50 bs=1024 alone, shim at low priority with its window open (no
           controller, no static window) -> images/s ratio

Writes overhead.json and overhead.md under --out."""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GPU = os.path.join(HERE, "..", "tests", "gpu")


def run(script, args, shim, lib, prio):
    env = dict(os.environ)
    if shim:
        env.update(LD_PRELOAD=lib, XSCHED_PRIORITY=prio, XSCHED_LOG="quiet")
    r = subprocess.run([sys.executable, os.path.join(GPU, script), *args], env=env,
                       capture_output=True, text=True, timeout=600)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        raise RuntimeError(f"{script} failed: {r.stderr[-2000:]}")
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.environ.get("OUT", "bench-out"))
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    lib = os.path.abspath(os.path.join(a.build, "lib", "libxsched.so"))
    os.makedirs(a.out, exist_ok=True)
    svc = {False: [], True: []}
    bat = {False: [], True: []}
    for _ in range(a.rounds):
        for shim in (False, True):
            svc[shim].append(run("torch_online.py", ["--rate", str(a.rate), "--duration",
                                                     str(a.duration)], shim, lib, "high"))
    for _ in range(a.rounds):
        for shim in (False, True):
            bat[shim].append(run("torch_batch.py", ["--duration", str(a.duration)], shim, lib,
                                 "low"))

    def mean(xs, k):
        return sum(x[k] for x in xs) / len(xs)

    rows = ["| measure | native | xsched | xsched / native |", "|---|---|---|---|"]
    res = {}
    for k in ("p50_ms", "p99_ms", "mean_ms"):
        n, x = mean(svc[False], k), mean(svc[True], k)
        res[f"service_{k}"] = {"native": n, "xsched": x, "ratio": x / n}
        rows.append(f"| ResNet-18 bs1 @{a.rate:g} req/s {k} | {n:.3f} | {x:.3f} | {x / n:.3f} |")
    n, x = mean(bat[False], "images_per_s"), mean(bat[True], "images_per_s")
    res["batch_images_per_s"] = {"native": n, "xsched": x, "ratio": x / n}
    rows.append(f"| ResNet-50 bs1024 images/s | {n:.0f} | {x:.0f} | {x / n:.4f} |")
    md = "\n".join(rows) + "\n"
    print(md)
    with open(os.path.join(a.out, "overhead.json"), "w") as f:
        json.dump({"args": vars(a), "summary": res, "service": {str(k): v for k, v in svc.items()},
                   "batch": {str(k): v for k, v in bat.items()}}, f, indent=1)
    with open(os.path.join(a.out, "overhead.md"), "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()
