#!/usr/bin/env python3
"""Side-by-side GPU scheduling benchmark on a real NVIDIA GPU.

One online service (PyTorch, open loop) beside N batch jobs (PyTorch), each its own process,
under several configurations in the same call, so that ratios are measured side by side:

  native         the driver's own time-slicing
  mps            under an MPS server
  mps-prio       MPS, batch jobs as below-normal clients (CUDA_MPS_CLIENT_PRIORITY=1)
  shim-wN        libxsched.so in every process: service high, batch low with static window N
  mps-shim-wN    the same under MPS

Writes results.json and table.md under --out. Usage (on the GPU machine):
  bench/harness.py --build build --out $OUT --configs native,shim-w1 --batch-jobs 1 \
      --batch-size 1024 --duration 20
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GPU = os.path.join(HERE, "..", "tests", "gpu")
MPS_DIRS = {"CUDA_MPS_PIPE_DIRECTORY": "/tmp/xsched-mps-pipe",
            "CUDA_MPS_LOG_DIRECTORY": "/tmp/xsched-mps-log"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Mps:
    """An MPS control daemon for the duration of a configuration."""

    def __enter__(self):
        for d in MPS_DIRS.values():
            os.makedirs(d, exist_ok=True)
        env = dict(os.environ, **MPS_DIRS)
        subprocess.run(["nvidia-cuda-mps-control", "-d"], env=env, check=True)
        time.sleep(1)
        return self

    def __exit__(self, *exc):
        env = dict(os.environ, **MPS_DIRS)
        subprocess.run(["nvidia-cuda-mps-control"], input="quit\n", text=True, env=env)
        time.sleep(2)


def parse_config(name):
    """-> (uses_mps, batch_env, online_env) for a configuration name."""
    mps = name.startswith("mps")
    rest = name[4:] if mps else name
    if rest in ("", "native") or name == "mps":
        return mps, {}, {}
    if rest == "prio":
        return mps, {"CUDA_MPS_CLIENT_PRIORITY": "1"}, {}
    if rest.startswith("shim-w"):
        w = int(rest[len("shim-w"):])
        return (mps, {"XSCHED_PRIORITY": "low", "XSCHED_WINDOW": str(w), "SHIM": "1"},
                {"XSCHED_PRIORITY": "high", "SHIM": "1"})
    raise SystemExit(f"harness: bad config {name!r}: want native, mps, mps-prio, shim-wN, "
                     f"mps-shim-wN")


def proc_env(base, extra, lib):
    env = dict(os.environ)
    env.update(base)
    extra = dict(extra)
    if extra.pop("SHIM", None):
        env["LD_PRELOAD"] = lib
        env.setdefault("XSCHED_LOG", "info")
    env.update(extra)
    return env


def last_json(text):
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def run_case(a, config, jobs):
    mps, benv, oenv = parse_config(config)
    base = dict(MPS_DIRS) if mps else {}
    lib = os.path.abspath(os.path.join(a.build, "lib", "libxsched.so"))
    batch = []
    for i in range(jobs):
        p = subprocess.Popen([sys.executable, os.path.join(GPU, "torch_batch.py"),
                              "--model", a.batch_model, "--batch", str(a.batch_size),
                              "--duration", "0", "--tag", f"{config}/{i}"],
                             env=proc_env(base, benv, lib), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        batch.append(p)
    errs = {p.pid: [] for p in batch}
    for p in batch:  # wait for "ready": model loaded and warmed up
        for line in p.stderr:
            errs[p.pid].append(line)
            if line.strip() == "ready":
                break
        else:
            raise RuntimeError(f"batch job died: {''.join(errs[p.pid])[-2000:]}")
    online_cmd = [sys.executable, os.path.join(GPU, "torch_online.py"), "--model",
                  a.online_model, "--batch", "1", "--rate", str(a.rate), "--duration",
                  str(a.duration), "--tag", config]
    if a.rate_step:
        online_cmd += ["--rate-step", a.rate_step]
    o = subprocess.run(online_cmd, env=proc_env(base, oenv, lib), capture_output=True,
                       text=True, timeout=a.duration + 120)
    for p in batch:
        p.send_signal(signal.SIGINT)
    results = []
    for p in batch:
        out, err = p.communicate(timeout=60)
        results.append(last_json(out))
        errs[p.pid].append(err)
    online = last_json(o.stdout)
    if online is None:
        raise RuntimeError(f"online failed: {o.stderr[-3000:]}")
    shim_lines = [l for l in o.stderr.splitlines() if l.startswith("xsched")]
    for p in batch:
        shim_lines += [l for l in "".join(errs[p.pid]).splitlines() if l.startswith("xsched")]
    return {"config": config, "batch_jobs": jobs, "online": online,
            "batch": results, "batch_images_per_s": sum(r["images_per_s"] for r in results),
            "shim_log": shim_lines[-12:]}


def solo(a, mps):
    base = dict(MPS_DIRS) if mps else {}
    o = subprocess.run([sys.executable, os.path.join(GPU, "torch_online.py"), "--model",
                        a.online_model, "--batch", "1", "--rate", str(a.rate), "--duration",
                        str(a.duration), "--tag", "solo"],
                       env=proc_env(base, {}, ""), capture_output=True, text=True,
                       timeout=a.duration + 120)
    r = last_json(o.stdout)
    if r is None:
        raise RuntimeError(f"solo online failed: {o.stderr[-3000:]}")
    return r


def table(runs, solos):
    native = {}
    for r in runs:
        if r["config"] in ("native", "mps"):
            native[r["config"] == "mps"] = r["batch_images_per_s"]
    rows = ["| configuration | batch jobs | P50 ms | P99 ms | max ms | P99 / solo | rate req/s"
            " | batch img/s | batch vs native |", "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        mps = r["config"].startswith("mps")
        o, s = r["online"], solos.get(mps)
        ref = native.get(mps)
        rows.append(f"| {r['config']} | {r['batch_jobs']} | {o['p50_ms']:.2f} | {o['p99_ms']:.2f}"
                    f" | {o['max_ms']:.2f} | {o['p99_ms'] / s['p99_ms']:.2f}x"
                    f" | {o['rate_achieved']:.1f} | {r['batch_images_per_s']:.0f}"
                    f" | {100 * r['batch_images_per_s'] / ref:.1f}% |" if ref and s else
                    f"| {r['config']} | {r['batch_jobs']} | {o['p50_ms']:.2f} | {o['p99_ms']:.2f}"
                    f" | {o['max_ms']:.2f} | - | {o['rate_achieved']:.1f}"
                    f" | {r['batch_images_per_s']:.0f} | - |")
    for mps, s in sorted(solos.items()):
        rows.append(f"| solo{' (MPS)' if mps else ''} | 0 | {s['p50_ms']:.2f} | {s['p99_ms']:.2f}"
                    f" | {s['max_ms']:.2f} | 1.00x | {s['rate_achieved']:.1f} | - | - |")
    return "\n".join(rows) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.environ.get("OUT", "bench-out"))
    ap.add_argument("--configs", default="native,shim-w1")
    ap.add_argument("--batch-jobs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--batch-model", default="resnet50")
    ap.add_argument("--online-model", default="resnet18")
    ap.add_argument("--rate", type=float, default=20)
    ap.add_argument("--rate-step", default="")
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--name", default="results")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    configs = a.configs.split(",")
    for c in configs:
        parse_config(c)
    runs, solos = [], {}
    for mps in sorted({c.startswith("mps") for c in configs}):
        group = [c for c in configs if c.startswith("mps") == mps]
        ctx = Mps() if mps else None
        if ctx:
            ctx.__enter__()
        try:
            solos[mps] = solo(a, mps)
            log(f"solo{' mps' if mps else ''}: {solos[mps]}")
            for c in group:
                r = run_case(a, c, a.batch_jobs)
                log(f"{c}: P99 {r['online']['p99_ms']:.2f} ms, batch "
                    f"{r['batch_images_per_s']:.0f} img/s")
                runs.append(r)
        finally:
            if ctx:
                ctx.__exit__(None, None, None)
    md = table(runs, solos)
    print(md)
    with open(os.path.join(a.out, f"{a.name}.json"), "w") as f:
        json.dump({"args": vars(a), "solo": {str(k): v for k, v in solos.items()},
                   "runs": runs}, f, indent=1)
    with open(os.path.join(a.out, f"{a.name}.md"), "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()
