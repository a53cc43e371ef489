#!/usr/bin/env python3
"""Plots of a harness result (bench/harness.py's NAME.json), written beside it:

  NAME-p99-vs-batch.png  one point per configuration: service P99 against batch throughput as
                         a share of native, targets marked; solo P99 as a line
  NAME-cdf.png           latency CDF per configuration (runs that kept every latency)
  NAME-over-time.png     per-request latency over the run, with targets (the load-spike case)

usage: bench/plots.py RESULT.json..."""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def native_throughput(runs):
    """Batch throughput of the native run, keyed by whether the server ran MPS."""
    return {r["config"] == "mps": r["batch_images_per_s"] for r in runs
            if r["config"] in ("native", "mps")}


def p99_vs_batch(d, base):
    runs = d["runs"]
    native = native_throughput(runs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in runs:
        ref = native.get(r["config"].startswith("mps"))
        if not ref:
            continue
        x = 100 * r["batch_images_per_s"] / ref
        y = r["online"]["p99_ms"]
        ax.scatter(x, y, s=40, marker="*" if "target_ms" in r else "o")
        ax.annotate(r["config"], (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)
        if "target_ms" in r:
            ax.plot([x - 0.4, x + 0.4], [r["target_ms"]] * 2, color="red", lw=1)
    for mps, s in d.get("solo", {}).items():
        ax.axhline(s["p99_ms"], ls="--", lw=0.8, color="gray")
        ax.annotate("solo P99" + (" (MPS)" if mps == "True" else ""), (ax.get_xlim()[0],
                    s["p99_ms"]), fontsize=8, color="gray")
    ax.set_xlabel("batch throughput, % of native")
    ax.set_ylabel("service P99, ms (red bar: target)")
    ax.set_yscale("log")
    ax.set_title(os.path.basename(base))
    fig.tight_layout()
    fig.savefig(base + "-p99-vs-batch.png", dpi=110)
    plt.close(fig)


def with_latencies(d):
    rows = [("solo" + (" (MPS)" if k == "True" else ""), s) for k, s in d.get("solo", {}).items()]
    rows += [(r["config"], r["online"]) for r in d["runs"]]
    return [(n, o) for n, o in rows if o.get("latencies_ms")]


def cdf(d, base):
    rows = with_latencies(d)
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, o in rows:
        xs = sorted(o["latencies_ms"])
        ax.plot(xs, [(i + 1) / len(xs) for i in range(len(xs))], label=name, lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("service latency, ms")
    ax.set_ylabel("fraction of requests")
    ax.axhline(0.99, ls=":", lw=0.8, color="gray")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(base + "-cdf.png", dpi=110)
    plt.close(fig)
    return True


def over_time(d, base):
    rows = [(r["config"], r["online"], r.get("target_ms")) for r in d["runs"]
            if r["online"].get("latencies_ms")]
    if not rows or not d.get("args", {}).get("rate_step"):
        return False
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, o, target in rows:
        line, = ax.plot(o["send_s"], o["latencies_ms"], lw=0.7, label=name)
        if target:
            ax.axhline(target, ls="--", lw=0.8, color=line.get_color())
    ax.set_xlabel("send time, s")
    ax.set_ylabel("service latency, ms (dashed: target)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(base + "-over-time.png", dpi=110)
    plt.close(fig)
    return True


def main():
    if len(sys.argv) < 2:
        print("usage: bench/plots.py RESULT.json...", file=sys.stderr)
        sys.exit(2)
    for path in sys.argv[1:]:
        with open(path) as f:
            d = json.load(f)
        base = path[:-len(".json")] if path.endswith(".json") else path
        p99_vs_batch(d, base)
        made = ["p99-vs-batch"] + (["cdf"] if cdf(d, base) else []) + \
               (["over-time"] if over_time(d, base) else [])
        print(f"{path}: {', '.join(made)}")


if __name__ == "__main__":
    main()
