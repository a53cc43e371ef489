#!/usr/bin/env python3
"""What the shim costs an application that it does not throttle, measured side by side in one
call on a real GPU: native and shimmed runs alternate (A B B A A B ...) so that drift hits both.

  service: ResNet-18 bs=1 online alone, shim at high priority  -> P50/P99 ratio, from every
           request of every round pooled per side (a P99 of thousands of requests, not a mean
           of small-sample P99s), with the spread of the per-round P99 ratios beside it
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
    ap.add_argument("--batch-rounds", type=int, default=2)
    a = ap.parse_args()
    lib = os.path.abspath(os.path.join(a.build, "lib", "libxsched.so"))
    os.makedirs(a.out, exist_ok=True)
    svc = {False: [], True: []}
    bat = {False: [], True: []}
    for i in range(a.rounds):
        for shim in ((False, True) if i % 2 == 0 else (True, False)):
            svc[shim].append(run("torch_online.py", ["--rate", str(a.rate), "--duration",
                                                     str(a.duration), "--all-latencies"], shim,
                                 lib, "high"))
    for i in range(a.batch_rounds):
        for shim in ((False, True) if i % 2 == 0 else (True, False)):
            bat[shim].append(run("torch_batch.py", ["--duration", str(a.duration)], shim, lib,
                                 "low"))

    def mean(xs, k):
        return sum(x[k] for x in xs) / len(xs)

    def pooled(runs, q):
        xs = sorted(l for r in runs for l in r["latencies_ms"])
        return xs[min(len(xs) - 1, int(q * len(xs)))], len(xs)

    rows = ["| measure | native | xsched | xsched / native |", "|---|---|---|---|"]
    res = {}
    for k, q in (("p50_ms", 0.50), ("p99_ms", 0.99)):
        (n, cnt), (x, _) = pooled(svc[False], q), pooled(svc[True], q)
        res[f"service_{k}"] = {"native": n, "xsched": x, "ratio": x / n, "requests": cnt}
        rows.append(f"| ResNet-18 bs1 @{a.rate:g} req/s {k}, {a.rounds} rounds pooled "
                    f"({cnt} requests a side) | {n:.3f} | {x:.3f} | {x / n:.3f} |")
    n, x = mean(svc[False], "mean_ms"), mean(svc[True], "mean_ms")
    res["service_mean_ms"] = {"native": n, "xsched": x, "ratio": x / n}
    rows.append(f"| ResNet-18 bs1 mean_ms | {n:.3f} | {x:.3f} | {x / n:.3f} |")
    per = sorted(b["p99_ms"] / n_["p99_ms"] for n_, b in zip(svc[False], svc[True]))
    res["service_p99_round_ratios"] = per
    rows.append(f"| per-round P99 ratio: min / median / max | - | - | {per[0]:.3f} / "
                f"{per[len(per) // 2]:.3f} / {per[-1]:.3f} |")
    n, x = mean(bat[False], "images_per_s"), mean(bat[True], "images_per_s")
    res["batch_images_per_s"] = {"native": n, "xsched": x, "ratio": x / n}
    rows.append(f"| ResNet-50 bs1024 images/s | {n:.0f} | {x:.0f} | {x / n:.4f} |")
    md = "\n".join(rows) + "\n"
    print(md)
    for side in svc.values():  # the pooled figures above keep what matters
        for r in side:
            r.pop("latencies_ms", None)
            r.pop("send_s", None)
    with open(os.path.join(a.out, "overhead.json"), "w") as f:
        json.dump({"args": vars(a), "summary": res, "service": {str(k): v for k, v in svc.items()},
                   "batch": {str(k): v for k, v in bat.items()}}, f, indent=1)
    with open(os.path.join(a.out, "overhead.md"), "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()
