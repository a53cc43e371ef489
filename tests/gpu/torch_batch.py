#!/usr/bin/env python3
"""Batch inference job: forward passes of a torchvision model at a large batch, back to back,
for a fixed time. Prints one JSON line with images/s. Random (seeded) weights."""
import argparse, json, signal, sys, time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--duration", type=float, default=30.0,
                    help="seconds; 0 = until SIGINT/SIGTERM")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    if a.batch <= 0:
        print(f"torch_batch: bad --batch {a.batch}: want > 0", file=sys.stderr)
        sys.exit(2)
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model = getattr(torchvision.models, a.model)(weights=None).to(dev).eval()
    x = torch.randn(a.batch, 3, 224, 224, device=dev)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    with torch.no_grad():
        for _ in range(a.warmup):
            model(x)
        torch.cuda.synchronize()
        # Harnesses start the measured service once every batch job says it is running.
        print("ready", file=sys.stderr, flush=True)
        iters = 0
        t0 = time.perf_counter()
        while not stop and (a.duration == 0 or time.perf_counter() - t0 < a.duration):
            model(x)
            torch.cuda.synchronize()
            iters += 1
        elapsed = time.perf_counter() - t0
    print(json.dumps({"workload": "torch_batch", "model": a.model, "batch": a.batch,
                      "tag": a.tag, "iters": iters, "seconds": elapsed,
                      "images_per_s": iters * a.batch / elapsed}), flush=True)


if __name__ == "__main__":
    main()
