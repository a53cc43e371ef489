#!/usr/bin/env python3
"""Side-by-side GPU scheduling benchmark on a real NVIDIA GPU.

One online service (PyTorch, open loop) beside N batch jobs (PyTorch), each its own process,
under several configurations in the same call, so that ratios are measured side by side:

  native         the driver's own time-slicing
  mps            under an MPS server
  mps-prio       MPS, batch jobs as below-normal clients (CUDA_MPS_CLIENT_PRIORITY=1)
  shim-wN        libxsched.so in every process: service high, batch low with static window N
  shim-wN-budgetD  the same with a static time budget D (XSCHED_BUDGET) too
  mps-shim-wN    the same under MPS
  ctl-T          libxsched.so everywhere and the controller: xsched-ctl run --p99-target T,
                 T a duration (10ms) or a multiple of the solo P99 measured in the same call
                 (x1.3); service high, batch low with no static window
  mps-ctl-T      the same under MPS

Shimmed processes start the way a user starts them, through `xsched-run --priority P --`
(which also applies the platform's native priority knobs, e.g. MPS client priority), or with
--launcher preload through LD_PRELOAD and XSCHED_* variables only.

--repeat N runs the whole list of configurations N times, round-robin, so that drift hits
every configuration alike; the table then says, per configuration, how far its P99s lie apart
and flags any spread over 15% as not repeatable. Controller runs record the controller's
status (P99 estimate, allowance, each process's windows and budgets) every 250 ms.

Writes NAME.json and NAME.md under --out. Usage (on the GPU machine):
  bench/harness.py --build build --out $OUT --configs native,shim-w1 --batch-jobs 1 \
      --batch-size 1024 --duration 20 --repeat 2
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GPU = os.path.join(HERE, "..", "tests", "gpu")
REPEAT_SPREAD = 0.15  # a case re-run in the same call must give its P99 within 15%
MPS_DIRS = {"CUDA_MPS_PIPE_DIRECTORY": "/tmp/xsched-mps-pipe",
            "CUDA_MPS_LOG_DIRECTORY": "/tmp/xsched-mps-log"}


def bad_input(msg):
    """A bad argument: one line on stderr, exit 2."""
    print(msg, file=sys.stderr)
    sys.exit(2)


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
    """-> (uses_mps, batch_env, online_env, controller target or None) for a configuration."""
    mps = name.startswith("mps")
    rest = name[4:] if mps else name
    gate = {}
    if "-budget" in rest:  # shim-wN-budgetD: the batch jobs' static time budget too
        rest, budget = rest.rsplit("-budget", 1)
        if not rest.startswith("shim-w") or not budget:
            bad_input(f"harness: bad config {name!r}: -budgetD (D: 200us, 1ms...) follows "
                      f"shim-wN only")
        gate["XSCHED_BUDGET"] = budget
    if rest in ("", "native") or name == "mps":
        return mps, {}, {}, None
    if rest == "prio":
        return mps, {"CUDA_MPS_CLIENT_PRIORITY": "1"}, {}, None
    if rest.startswith("shim-w") and rest[len("shim-w"):].isdigit():
        w = int(rest[len("shim-w"):])
        return (mps, {"XSCHED_PRIORITY": "low", "XSCHED_WINDOW": str(w), "SHIM": "1", **gate},
                {"XSCHED_PRIORITY": "high", "SHIM": "1"}, None)
    if rest.startswith("ctl-") and len(rest) > 4:
        return (mps, {"XSCHED_PRIORITY": "low", "SHIM": "1"},
                {"XSCHED_PRIORITY": "high", "SHIM": "1"}, rest[4:])
    bad_input(f"harness: bad config {name!r}: want native, mps, mps-prio, shim-wN, "
                     f"mps-shim-wN, ctl-T or mps-ctl-T (T: 10ms or x1.3; ctl-T-noturns: "
                     f"xsched-ctl --turns off; ctl-T-pinD: --allowance D)")


def ctl_target(spec):
    """'6ms-noturns' -> ('6ms', ['--turns', 'off']): the target, and xsched-ctl's options.
    'x1.1-pin2ms' -> ('x1.1', ['--allowance', '2ms']): the allowance pinned, the law only
    watching (what a fixed allowance gives, judged against the same target)."""
    extra = []
    if "-pin" in spec:
        spec, pin = spec.rsplit("-pin", 1)
        extra += ["--allowance", pin]
    if spec.endswith("-noturns"):
        spec = spec[:-len("-noturns")]
        extra += ["--turns", "off"]
    return spec, extra


def target_ms(spec, solo_p99):
    if spec.startswith("x"):
        return float(spec[1:]) * solo_p99
    for unit, scale in (("ms", 1.0), ("us", 1e-3), ("s", 1e3)):
        if spec.endswith(unit):
            return float(spec[:-len(unit)]) * scale
    bad_input(f"harness: bad target {spec!r}: want e.g. 10ms or x1.3")


class Controller:
    """xsched-ctl run for the duration of one case."""

    def __init__(self, a, target, out_name, extra=()):
        self.ctl = os.path.join(a.build, "bin", "xsched-ctl")
        self.trace = []
        self.stop = threading.Event()
        # Every process here runs under the shim, whose latency rings the controller reads;
        # eBPF would only add probe attach/detach time (seconds with PyTorch's libraries).
        self.cmd = [os.path.join(a.build, "bin", "xsched-ctl"), "run", "--p99-target",
                    f"{target * 1000:.0f}us", "--no-ebpf", "-v", *extra]
        self.log = os.path.join(a.out, out_name)

    def __enter__(self):
        self.f = open(self.log, "w")
        self.p = subprocess.Popen(self.cmd, stdout=self.f, stderr=subprocess.STDOUT)
        time.sleep(1)
        if self.p.poll() is not None:
            raise RuntimeError(f"controller exited {self.p.returncode}: {open(self.log).read()}")
        self.poller = threading.Thread(target=self.poll, daemon=True)
        self.poller.start()
        return self

    def poll(self):
        """The controller's view over time: its P99 estimate, allowance, and every controlled
        process's windows and time budgets."""
        while not self.stop.wait(0.25):
            r = subprocess.run([self.ctl, "status", "--json"], capture_output=True, text=True)
            if r.returncode != 0 or not r.stdout.startswith("{"):
                continue
            st = json.loads(r.stdout)
            svc = st["services"][0] if st.get("services") else {}
            self.trace.append({
                "t": time.time(), "state": svc.get("state"),
                "p99_ms": svc.get("p99_ns", 0) / 1e6,
                "allowance_ms": svc.get("allowance_ns", 0) / 1e6,
                "low": [{k: p.get(k) for k in ("pid", "w_busy", "w_idle", "budget_busy_us",
                                               "budget_idle_us", "window_applied", "turn")}
                        for p in st.get("processes", []) if p.get("mode") == "control"]})

    def __exit__(self, *exc):
        self.stop.set()
        self.poller.join()
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.f.close()


def launch(a, base, extra, lib, cmd):
    """-> (argv, env) for a process of this configuration: shimmed ones through xsched-run
    (priority and static window as its flags) unless --launcher preload."""
    env = dict(os.environ)
    env.update(base)
    extra = dict(extra)
    if not extra.pop("SHIM", None):
        env.update(extra)
        return cmd, env
    env.setdefault("XSCHED_LOG", "info")
    if a.launcher == "preload":
        env["LD_PRELOAD"] = lib
        env.update(extra)
        return cmd, env
    run = [os.path.join(a.build, "bin", "xsched-run"), "--priority", extra.pop("XSCHED_PRIORITY")]
    if "XSCHED_WINDOW" in extra:
        run += ["--window", extra.pop("XSCHED_WINDOW")]
    env.update(extra)
    return run + ["--"] + cmd, env


def last_json(text):
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def run_case(a, config, jobs, solo_p99):
    mps, benv, oenv, target = parse_config(config)
    if target is None:
        return run_mix(a, config, jobs, mps, benv, oenv)
    target, extra = ctl_target(target)
    t = target_ms(target, solo_p99)
    with Controller(a, t, f"{a.name}-{config}-ctl.log", extra) as ctl:
        r = run_mix(a, config, jobs, mps, benv, oenv)
    r["target_ms"] = t
    t0 = r["online"].get("t0_unix")
    if t0:
        for e in ctl.trace:
            e["t"] = round(e["t"] - t0, 3)
        r["ctl_trace"] = ctl.trace
    r["target_held"] = r["online"]["p99_ms"] <= t
    return r


def run_mix(a, config, jobs, mps, benv, oenv):
    base = dict(MPS_DIRS) if mps else {}
    lib = os.path.abspath(os.path.join(a.build, "lib", "libxsched.so"))
    batch = []
    for i in range(jobs):
        argv, env = launch(a, base, benv, lib,
                           [sys.executable, os.path.join(GPU, "torch_batch.py"), "--model",
                            a.batch_model, "--batch", str(a.batch_size), "--duration", "0",
                            "--tag", f"{config}/{i}"])
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
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
                  str(a.duration), "--tag", config, "--all-latencies"]
    if a.rate_step:
        online_cmd += ["--rate-step", a.rate_step]
    argv, env = launch(a, base, oenv, lib, online_cmd)
    o = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=a.duration + 120)
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
                        str(a.solo_duration), "--tag", "solo", "--all-latencies"],
                       env=dict(os.environ, **base), capture_output=True, text=True,
                       timeout=a.solo_duration + 120)
    r = last_json(o.stdout)
    if r is None:
        raise RuntimeError(f"solo online failed: {o.stderr[-3000:]}")
    return r


def native_reference(runs):
    """Batch throughput of the native runs (mean over repeats), keyed by whether MPS ran."""
    ref = {}
    for r in runs:
        if r["config"] in ("native", "mps"):
            ref.setdefault(r["config"] == "mps", []).append(r["batch_images_per_s"])
    return {k: sum(v) / len(v) for k, v in ref.items()}


def repeatability(runs):
    """Per configuration run more than once: its P99s and their spread (max / min - 1)."""
    by = {}
    for r in runs:
        by.setdefault(r["config"], []).append(r["online"]["p99_ms"])
    return {c: {"p99_ms": v, "spread": max(v) / min(v) - 1, "ok": max(v) / min(v) - 1 <=
                REPEAT_SPREAD} for c, v in by.items() if len(v) > 1}


def solo_pieces(solo, n):
    """P99 of each piece of n requests of the solo run: what the service alone gives over as
    many requests as a case's run, i.e. how far a "x solo" target lies from its own noise."""
    lat = solo.get("latencies_ms", [])
    if n < 100 or len(lat) < 2 * n:
        return []
    out = []
    for i in range(0, len(lat) - n + 1, n):
        piece = sorted(lat[i:i + n])
        out.append(piece[min(n - 1, max(0, int(round(0.99 * n + 0.5)) - 1))])
    return out


def table(runs, solos, piece_n=0):
    """Markdown: one row per run; ratios against the same server mode's solo run and native
    batch throughput; then the repeatability of each configuration run more than once, and
    the solo run's P99 over pieces as long as a case."""
    native = native_reference(runs)
    reps = max((r.get("rep", 0) for r in runs), default=0) > 0
    rows = ["| configuration | batch jobs | target ms | P50 ms | P99 ms | max ms | P99 / solo"
            " | rate req/s | batch img/s | batch vs native |",
            "|---|---|---|---|---|---|---|---|---|---|"]

    def row(name, jobs, o, solo, img, ref, target):
        ratio = f"{o['p99_ms'] / solo['p99_ms']:.2f}x" if solo else "-"
        share = f"{100 * img / ref:.1f}%" if img is not None and ref else "-"
        img = f"{img:.0f}" if img is not None else "-"
        tgt = "-" if target is None else f"{target:.2f}" + (" held" if o["p99_ms"] <= target
                                                            else " MISSED")
        return (f"| {name} | {jobs} | {tgt} | {o['p50_ms']:.2f} | {o['p99_ms']:.2f}"
                f" | {o['max_ms']:.2f} | {ratio} | {o['rate_achieved']:.1f} | {img} | {share} |")

    for r in runs:
        mps = r["config"].startswith("mps")
        name = r["config"] + (f" #{r.get('rep', 0) + 1}" if reps else "")
        rows.append(row(name, r["batch_jobs"], r["online"], solos.get(mps),
                        r["batch_images_per_s"], native.get(mps), r.get("target_ms")))
    for mps, s in sorted(solos.items()):
        rows.append(row("solo (MPS)" if mps else "solo", 0, s, s, None, None, None))
    for mps, s in sorted(solos.items()):
        pieces = solo_pieces(s, piece_n)
        if pieces:
            rows += ["", f"Solo{' (MPS)' if mps else ''} in pieces of {piece_n} requests (a "
                     f"case's length): P99 {' / '.join(f'{p:.2f}' for p in pieces)} ms, "
                     f"{min(pieces) / s['p99_ms']:.2f}x to {max(pieces) / s['p99_ms']:.2f}x "
                     "of the whole run's: the service alone, measured as a case is."]
    rep = repeatability(runs)
    if rep:
        rows += ["", f"Repeatability (P99 of each run; spread = max / min - 1, over "
                 f"{100 * REPEAT_SPREAD:.0f}% is flagged):", "",
                 "| configuration | P99 ms per run | spread | repeatable |", "|---|---|---|---|"]
        for c, v in rep.items():
            rows.append(f"| {c} | {' / '.join(f'{x:.2f}' for x in v['p99_ms'])} | "
                        f"{100 * v['spread']:.1f}% | {'yes' if v['ok'] else 'NO'} |")
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
    ap.add_argument("--repeat", type=int, default=1)
    # The solo P99 sets every "x solo" target: over 200 requests it is the second-largest
    # sample and moved by up to 30% between calls on an H200, so it gets more requests.
    ap.add_argument("--solo-duration", type=float, default=0,
                    help="seconds of the solo run (default: twice --duration)")
    ap.add_argument("--launcher", choices=("run", "preload"), default="run")
    a = ap.parse_args()
    if a.repeat < 1:
        bad_input(f"harness: bad --repeat {a.repeat}: want >= 1")
    if a.solo_duration <= 0:
        a.solo_duration = 2 * a.duration
    os.makedirs(a.out, exist_ok=True)
    configs = a.configs.split(",")
    for c in configs:
        target = parse_config(c)[3]
        if target is not None:
            target_ms(ctl_target(target)[0], 1.0)  # refused before anything runs
    runs, solos = [], {}
    for mps in sorted({c.startswith("mps") for c in configs}):
        group = [c for c in configs if c.startswith("mps") == mps]
        ctx = Mps() if mps else None
        if ctx:
            ctx.__enter__()
        try:
            solos[mps] = solo(a, mps)
            log(f"solo{' mps' if mps else ''}: {solos[mps]}")
            for rep, c in [(i, c) for i in range(a.repeat) for c in group]:
                try:
                    r = run_case(a, c, a.batch_jobs, solos[mps]["p99_ms"])
                except (RuntimeError, subprocess.SubprocessError) as e:
                    log(f"{c}: FAILED: {e}")
                    continue
                r["rep"] = rep
                log(f"{c}: P99 {r['online']['p99_ms']:.2f} ms, batch "
                    f"{r['batch_images_per_s']:.0f} img/s"
                    + (f", target {r['target_ms']:.2f} ms" if "target_ms" in r else ""))
                runs.append(r)
        finally:
            if ctx:
                ctx.__exit__(None, None, None)
    md = table(runs, solos, int(round(a.duration * a.rate)) if not a.rate_step else 0)
    print(md)
    rep = repeatability(runs)
    for c, v in rep.items():
        if not v["ok"]:
            log(f"harness: {c} is not repeatable: P99 {v['p99_ms']} spread "
                f"{100 * v['spread']:.0f}% > {100 * REPEAT_SPREAD:.0f}%")
    with open(os.path.join(a.out, f"{a.name}.json"), "w") as f:
        json.dump({"args": vars(a), "solo": {str(k): v for k, v in solos.items()},
                   "runs": runs, "repeatability": rep}, f, indent=1)
    with open(os.path.join(a.out, f"{a.name}.md"), "w") as f:
        f.write(md)


if __name__ == "__main__":
    main()
