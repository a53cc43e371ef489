#!/usr/bin/env python3
"""Plots of a harness result (bench/harness.py's NAME.json), written beside it:

  NAME-p99-vs-batch.png  one point per configuration: service P99 against batch throughput as
                         a share of native, targets marked; solo P99 as a line
  NAME-cdf.png           latency CDF per configuration (runs that kept every latency)
  NAME-over-time.png     the load-spike case: per-request latency and P99 per 1-s bucket over
                         the run with targets (top), and the controller's windows and time
                         budgets for the batch jobs over the same time (bottom)

usage: bench/plots.py RESULT.json..."""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def native_throughput(runs):
    """Batch throughput of the native runs (mean over repeats), keyed by whether MPS ran."""
    ref = {}
    for r in runs:
        if r["config"] in ("native", "mps"):
            ref.setdefault(r["config"] == "mps", []).append(r["batch_images_per_s"])
    return {k: sum(v) / len(v) for k, v in ref.items()}


def label(r, runs):
    reps = max((x.get("rep", 0) for x in runs), default=0) > 0
    return r["config"] + (f" #{r.get('rep', 0) + 1}" if reps else "")


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
        ax.annotate(label(r, runs), (x, y), textcoords="offset points", xytext=(5, 3), fontsize=8)
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
    rows += [(label(r, d["runs"]), r["online"]) for r in d["runs"]]
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


def bucket_p99(send_s, lat_ms, width=1.0):
    """P99 of the requests sent in each `width`-second bucket: (bucket start, P99) pairs."""
    b = {}
    for t, l in zip(send_s, lat_ms):
        b.setdefault(int(t // width), []).append(l)
    out = []
    for k in sorted(b):
        xs = sorted(b[k])
        out.append((k * width, xs[min(len(xs) - 1, int(0.99 * len(xs)))]))
    return out


def over_time(d, base):
    runs = d["runs"]
    rows = [r for r in runs if r["online"].get("latencies_ms")]
    if not rows or not d.get("args", {}).get("rate_step"):
        return False
    fig, (ax, aw) = plt.subplots(2, 1, figsize=(8, 7), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2]})
    for r in rows:
        o = r["online"]
        pts, = ax.plot(o["send_s"], o["latencies_ms"], ".", ms=1.5, alpha=0.35)
        bx = bucket_p99(o["send_s"], o["latencies_ms"])
        ax.step([x for x, _ in bx], [y for _, y in bx], where="post", lw=1.3,
                color=pts.get_color(), label=f"{label(r, runs)}: P99 per 1 s")
        if r.get("target_ms"):
            ax.axhline(r["target_ms"], ls="--", lw=0.8, color=pts.get_color())
        tr = [e for e in r.get("ctl_trace", []) if e["low"]]
        if tr:
            t = [e["t"] for e in tr]
            w = [min(min(p["w_busy"] for p in e["low"]), 64) for e in tr]
            aw.step(t, w, where="post", color=pts.get_color(),
                    label=f"{label(r, runs)}: batch W_busy (cap 64 shown)")
            if any(p.get("budget_busy_us") for e in tr for p in e["low"]):
                bud = [min(p["budget_busy_us"] for p in e["low"]) / 1000 for e in tr]
                aw.step(t, bud, where="post", ls=":", color=pts.get_color(),
                        label=f"{label(r, runs)}: batch busy budget, ms")
    step = d["args"]["rate_step"]
    for a_ in (ax, aw):
        a_.axvline(float(step.split(":")[0]), color="gray", lw=0.8)
    ax.set_ylabel("service latency, ms (dashed: target)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.set_title(f"{os.path.basename(base)}: rate step {step} (gray line)")
    aw.set_xlabel("time since the service's first request, s")
    aw.set_ylabel("controller's grant")
    if aw.lines:
        aw.legend(fontsize=7)
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
