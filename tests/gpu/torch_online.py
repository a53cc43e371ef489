#!/usr/bin/env python3
"""Open-loop online inference service: one request every 1/rate seconds, each a forward pass of
a torchvision model at a small batch with the input copied in and the result copied out (a real
service's shape). Latency is taken from the scheduled send time (what a client sees under an
open-loop load) and from the actual send time. Prints one JSON line.

Weights are random (seeded): nothing is downloaded, and timing does not depend on the values."""
import argparse, json, sys, time

import torch
import torchvision


def percentile(xs, p):
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--rate-step", default="", help="T:R  change the rate to R at T seconds")
    ap.add_argument("--latency-log", default="")
    ap.add_argument("--tag", default="")
    ap.add_argument("--all-latencies", action="store_true",
                    help="add every request's send time and latency to the JSON line")
    a = ap.parse_args()
    if a.rate <= 0:
        print(f"torch_online: bad --rate {a.rate}: want > 0", file=sys.stderr)
        sys.exit(2)
    step_t, step_r = None, None
    if a.rate_step:
        try:
            t, r = a.rate_step.split(":")
            step_t, step_r = float(t), float(r)
        except ValueError:
            print(f"torch_online: bad --rate-step {a.rate_step!r}: want T:R", file=sys.stderr)
            sys.exit(2)

    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = False
    dev = torch.device("cuda")
    model = getattr(torchvision.models, a.model)(weights=None).to(dev).eval()
    x_host = torch.randn(a.batch, 3, 224, 224).pin_memory()
    with torch.no_grad():
        for _ in range(a.warmup):
            model(x_host.to(dev, non_blocking=True)).cpu()
        torch.cuda.synchronize()

        lat, lat_sent, log = [], [], []
        t0_unix = time.time()  # aligns send_s with other processes' wall-clock traces
        t0 = time.perf_counter()
        next_t = t0
        rate = a.rate
        while True:
            now = time.perf_counter()
            if now - t0 >= a.duration:
                break
            if step_t is not None and now - t0 >= step_t:
                rate = step_r
            if now < next_t:
                time.sleep(next_t - now)
            sent = time.perf_counter()
            y = model(x_host.to(dev, non_blocking=True)).cpu()
            done = time.perf_counter()
            lat.append((done - next_t) * 1e3)
            lat_sent.append((done - sent) * 1e3)
            if a.latency_log or a.all_latencies:
                log.append((next_t - t0, lat[-1], lat_sent[-1]))
            next_t += 1.0 / rate
        elapsed = time.perf_counter() - t0
    del y
    if a.latency_log:
        with open(a.latency_log, "w") as f:
            for t, l, ls in log:
                f.write(f"{t:.6f} {l:.4f} {ls:.4f}\n")
    out = {
        "workload": "torch_online", "model": a.model, "batch": a.batch, "tag": a.tag,
        "requests": len(lat), "rate_target": a.rate, "rate_achieved": len(lat) / elapsed,
        "p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90),
        "p99_ms": percentile(lat, 99), "max_ms": max(lat) if lat else float("nan"),
        "mean_ms": sum(lat) / len(lat) if lat else float("nan"),
        "p50_sent_ms": percentile(lat_sent, 50), "p99_sent_ms": percentile(lat_sent, 99),
        "t0_unix": t0_unix,
    }
    if a.all_latencies:
        out["send_s"] = [round(t, 4) for t, _, _ in log]
        out["latencies_ms"] = [round(l, 4) for _, l, _ in log]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
