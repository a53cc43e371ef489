#!/usr/bin/env python3
"""The controller's acceptance scenarios on the simulated GPU (issue 6, scenario A), as real
processes: the `online` workload (high priority, 20 req/s, bursts of 10 x 100 us = 1 ms)
beside `batch` (low priority, 100 x 200 us = 20 ms of kernels per iteration) in fifo mode,
both under the real shim, with `xsched-ctl run` holding a P99 target.

usage: ctl_scenarios.py BUILD_DIR SCENARIO

  targets      T = 3x and 1.5x solo P99: online P99 <= T and batch throughput >= 90% of the
               best static window meeting T (a sweep of static windows in the same test)
  spike        online 20 -> 100 req/s and a second batch job, mid-run: P99 of every
               1-second bucket from 2 s after the step is <= T
  unreachable  T below what the service achieves alone: batch suspended while online is
               active, no oscillation, and throughput back within 2 s of raising T
  pin          an operator's pinned allowance (run and set --allowance) holds through
               violations; handed back (auto), the law goes to its floor
  kill         SIGKILL of the controller: every batch process back at its default window
               within 1 s (the heartbeat goes stale after 500 ms; the shim fails open)
  unshimmed    the service runs without the shim, seen by the eBPF observer only: the
               target still holds (needs root; skipped, exit 77, without eBPF)
  turns        time-sliced device, three batch jobs: they take turns (one holds, the others
               wait), the target holds, every job progresses, batch throughput >= 75% of
               native
  cold         the service's first launch takes 200 ms (lazy loading): counted as a cold
               burst, shown in the process's latency, no violation for the law
  native       the batch job is an MPS below-normal client (a fake server pipe): the law
               starts open and tightens on violations; without the knob it starts at the
               floor; P99 after 4 s <= min(3x solo, 10 ms) with the knob

Every scenario prints its figures as a table. Exit 0 passed, 1 failed, 77 something it needs
is not built.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
from xsched_scenario import Scenario, table  # noqa: E402

SKIP = 77
RATE = 20
ONLINE = ["--kernels", "10", "--kernel-us", "100", "--warmup", "5"]
BATCH = ["--kernel-us", "200", "--kernels-per-iter", "100", "--duration", "0"]
HIGH = {"XSCHED_PRIORITY": "high"}
LOW = {"XSCHED_PRIORITY": "low"}
UNLIMITED = 0x7fffffff
# The simulated device runs on the test machine's CPUs: with a few processes on 2 cores,
# a burst now and then takes several ms longer whatever the GPU schedule (measured: online
# beside batch at a static window of 1, where the GPU adds at most one 200 us kernel, had a
# P99 from 1.8 to 15 ms over three runs). A latency check that fails is therefore repeated,
# up to ATTEMPTS runs in all; every attempt is printed. A controller that does not bound
# the batch job fails them all (native P99 is ~20 ms).
ATTEMPTS = 3

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    sys.stdout.flush()
    if not cond:
        failures.append(what)
    return cond


def ms(ns):
    return ns / 1e6


class Ctl:
    """xsched-ctl run as a child of scenario s; stopped with SIGINT unless killed."""

    def __init__(self, s, *args, ebpf=False):
        self.s = s
        self.p = subprocess.Popen([os.path.join(s.bin, "xsched-ctl"), "run", "-v",
                                   *([] if ebpf else ["--no-ebpf"]), *args], env=s.env,
                                  stderr=subprocess.PIPE, text=True)
        s.procs.append(self.p)
        # Up when its status segment answers.
        for _ in range(100):
            if self.status()["controller"]["running"]:
                return
            time.sleep(0.05)
        raise RuntimeError("xsched-ctl run did not come up: " + self.stop())

    def status(self):
        r = subprocess.run([os.path.join(self.s.bin, "xsched-ctl"), "status", "--json"],
                           env=self.s.env, capture_output=True, text=True, timeout=10)
        if r.returncode:
            raise RuntimeError("xsched-ctl status failed: " + r.stderr)
        return json.loads(r.stdout)

    def set(self, *args):
        r = subprocess.run([os.path.join(self.s.bin, "xsched-ctl"), "set", *args],
                           env=self.s.env, capture_output=True, text=True, timeout=10)
        if r.returncode:
            raise RuntimeError("xsched-ctl set failed: " + r.stderr)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        # With eBPF the kernel may take many seconds to detach the probes at exit; the
        # windows are restored before that.
        _, err = self.p.communicate(timeout=90)
        return err


def service(st, name="default"):
    for v in st["services"]:
        if v["name"] == name:
            return v
    return None


def proc(st, pid):
    for x in st["processes"]:
        if x["pid"] == pid:
            return x
    return None


def batch(s, shim=LOW):
    """A batch job under the shim, at the lowest CPU priority: on a 2-core CI machine its
    launching thread would otherwise take CPU time from the service's, adding latency that
    no GPU scheduler can remove (on a real machine they do not share cores so tightly)."""
    env = dict(s.env)
    env["LD_PRELOAD"] = os.path.join(s.build, "lib", "libxsched.so")
    env.update(shim)
    p = subprocess.Popen([os.path.join(s.bin, "batch"), *BATCH], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: os.nice(19))
    s.procs.append(p)
    return p


def online(s, seconds, rate=RATE, extra=()):
    return s.start("online", "--rate", str(rate), "--duration", str(seconds), *ONLINE,
                   *extra, shim=HIGH)


def mixed_run(s, seconds, batch_shim=LOW):
    """Batch first, then online for `seconds`; returns (online JSON, batch JSON)."""
    b = batch(s, batch_shim)
    time.sleep(0.5)
    r = s.result(online(s, seconds))
    b.send_signal(signal.SIGINT)
    return r, s.result(b)


def solo(build, seconds=6):
    with Scenario(build, "ctl-solo", mode="fifo") as s:
        r = s.result(online(s, seconds))
    r["config"] = "online alone"
    return r


# ---- targets ----

def targets(build):
    # Solo P99 over 240 requests (the third largest): a P99 over fewer is mostly a matter
    # of which CPU hiccups the run happened to catch. Static windows run as long as the
    # controller does, so that the oracle is measured as the controller is.
    rows = [solo(build, 12)]
    S = rows[0]["p99_ms"]
    sweep = []
    for w in ["1", "2", "4", "8", "unlimited"]:
        with Scenario(build, f"ctl-static-{w}", mode="fifo") as s:
            r, b = mixed_run(s, 4 if w == "unlimited" else 8, dict(LOW, XSCHED_WINDOW=w))
        r["config"] = "static W=" + w if w != "unlimited" else "native (no window)"
        r["batch_iter_s"] = b["iters_per_s"]
        sweep.append(r)
    rows += sweep
    results = []
    for mult in (3.0, 1.5):
        T = mult * S
        ok = [x for x in sweep if x["p99_ms"] <= T]
        best = max(ok, key=lambda x: x["batch_iter_s"]) if ok else None
        for attempt in range(1, ATTEMPTS + 1):
            with Scenario(build, f"ctl-target-{mult}", mode="fifo") as s:
                ctl = Ctl(s, "--p99-target", f"{T * 1000:.0f}us")
                r, b = mixed_run(s, 8)
                ctl.stop()
            r["config"] = f"xsched T={mult}x={T:.2f}ms" + (f" #{attempt}" if attempt > 1 else "")
            r["batch_iter_s"] = b["iters_per_s"]
            r["oracle"] = best["config"] if best else "none meets T"
            r["vs_oracle"] = b["iters_per_s"] / best["batch_iter_s"] if best else float("nan")
            rows.append(r)
            good = r["p99_ms"] <= T and (not best or r["vs_oracle"] >= 0.9)
            if good:
                break
        results.append((mult, T, r, best, b, attempt))
    table(f"scenario A (fifo): solo P99 {S:.3f} ms; static windows and xsched", rows,
          ["config", "p50_ms", "p99_ms", "max_ms", "batch_iter_s", "oracle", "vs_oracle"])
    native = sweep[-1]
    check(native["p99_ms"] >= 3 * S, f"native P99 {native['p99_ms']:.2f} ms is many times "
          f"solo ({S:.2f} ms)")
    for mult, T, r, best, b, attempt in results:
        tries = f" (attempt {attempt} of {ATTEMPTS})" if attempt > 1 else ""
        check(r["p99_ms"] <= T, f"{mult}x: online P99 {r['p99_ms']:.3f} ms <= T {T:.3f} ms"
              + tries)
        if best:
            check(b["iters_per_s"] >= 0.9 * best["batch_iter_s"],
                  f"{mult}x: batch {b['iters_per_s']:.1f} iter/s >= 90% of the best static "
                  f"window meeting T ({best['config']}: {best['batch_iter_s']:.1f})" + tries)
        else:
            print(f"note: {mult}x: no static window meets T")


# ---- spike ----

def buckets(path, step_s):
    """P99 per 1-second bucket of due time, from the online workload's latency log."""
    lat = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            due, _, l_ms, _ = (float(x) for x in line.split())
            lat.setdefault(int(due), []).append(l_ms)
    rows = []
    for sec in sorted(lat):
        v = sorted(lat[sec])
        p99 = v[max(0, -(-99 * len(v) // 100) - 1)]
        rows.append({"second": sec, "after_step_s": sec - step_s, "requests": len(v),
                     "p99_ms": p99, "max_ms": v[-1]})
    return rows


def buckets_raw(path):
    """(due time s, latency ms) of every request in the online workload's latency log."""
    with open(path) as f:
        return [(float(x[0]), float(x[2])) for x in (l.split() for l in f if not
                                                     l.startswith("#"))]


def spike_once(build, T, step):
    log = f"/tmp/xsched-ctl-spike-{os.getpid()}.log"
    with Scenario(build, "ctl-spike", mode="fifo") as s:
        ctl = Ctl(s, "--p99-target", f"{T * 1000:.0f}us")
        b1 = batch(s)
        time.sleep(0.5)
        o = online(s, 13, extra=["--rate-step", f"{step}:100", "--latency-log", log])
        time.sleep(step + 5 / RATE)  # the warmup requests come first
        b2 = batch(s)
        r = s.result(o)
        for b in (b1, b2):
            b.send_signal(signal.SIGINT)
        it = [s.result(b)["iters_per_s"] for b in (b1, b2)]
        log_ctl = ctl.stop()
    if os.environ.get("CTL_DEBUG"):
        print(log_ctl)
    rows = buckets(log, step)
    os.unlink(log)
    late = [x for x in rows if x["after_step_s"] >= 2]
    bad = [x for x in late if x["p99_ms"] > T]
    return rows, it, r, late, bad


def spike(build):
    S = solo(build, 12)["p99_ms"]
    T = 3 * S
    step = 5
    for attempt in range(1, ATTEMPTS + 1):
        rows, it, r, late, bad = spike_once(build, T, step)
        table(f"load spike at {step} s (20 -> 100 req/s, second batch job), attempt {attempt}: "
              f"P99 per second, T = 3x solo = {T:.2f} ms; batch {it[0]:.1f} + {it[1]:.1f} "
              "iter/s", rows, ["second", "after_step_s", "requests", "p99_ms", "max_ms"])
        if len(late) >= 5 and not bad:
            break
    check(len(late) >= 5, f"{len(late)} one-second buckets from 2 s after the step")
    check(not bad, "every bucket from 2 s after the step holds T" +
          (f" (attempt {attempt} of {ATTEMPTS})" if attempt > 1 else "") +
          (f" (not: {[(x['second'], round(x['p99_ms'], 2)) for x in bad]})" if bad else ""))
    check(r["rate_achieved"] > 50, f"the step happened (achieved {r['rate_achieved']:.0f} "
          "req/s over the run)")


# ---- unreachable ----

def unreachable(build):
    alone = solo(build)
    S50, S = alone["p50_ms"], alone["p99_ms"]
    T = 0.7 * S50  # below what a burst takes on an idle GPU
    rows = []
    with Scenario(build, "ctl-unreachable", mode="fifo") as s:
        ctl = Ctl(s, "--p99-target", f"{T * 1000:.0f}us")
        b = batch(s)
        time.sleep(0.5)
        o = online(s, 16)
        time.sleep(3)  # past the first judgement at the floor
        seen = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 4:
            st = ctl.status()
            v, x = service(st), proc(st, b.pid)
            seen.append((v["state"], v["allowance_ns"], x["w_busy"], x["w_idle"],
                         x["completions"], time.monotonic()))
            time.sleep(0.25)
        rate_floor = (seen[-1][4] - seen[0][4]) / (seen[-1][5] - seen[0][5])
        rows.append({"phase": f"T={T:.2f}ms", "state": seen[-1][0],
                     "allowance_us": seen[-1][1] / 1e3, "w_busy": seen[-1][2],
                     "w_idle": seen[-1][3], "batch_cmd_s": rate_floor})
        T2 = 3 * S
        ctl.set("--p99-target", f"{T2 * 1000:.0f}us")
        t_set = time.monotonic()
        back = None
        while time.monotonic() - t_set < 3:
            st = ctl.status()
            x = proc(st, b.pid)
            if back is None and x["w_idle"] > 1:
                back = time.monotonic() - t_set
            time.sleep(0.05)
        # Over 3 s: a CPU hiccup may still send the law back to the floor for a second.
        c0, t0 = proc(ctl.status(), b.pid)["completions"], time.monotonic()
        time.sleep(3)
        st = ctl.status()
        x, v = proc(st, b.pid), service(st)
        rate_after = (x["completions"] - c0) / (time.monotonic() - t0)
        rows.append({"phase": f"raised to {T2:.2f}ms", "state": v["state"],
                     "allowance_us": v["allowance_ns"] / 1e3, "w_busy": x["w_busy"],
                     "w_idle": x["w_idle"], "batch_cmd_s": rate_after})
        s.result(o)
        b.send_signal(signal.SIGINT)
        s.result(b)
        log_ctl = ctl.stop()
    if os.environ.get("CTL_DEBUG"):
        print(log_ctl)
    table(f"unreachable target (solo P50 {S50:.2f} ms, P99 {S:.2f} ms)", rows,
          ["phase", "state", "allowance_us", "w_busy", "w_idle", "batch_cmd_s"])
    check(all(x[0] == "unreachable" for x in seen), "reported unreachable throughout: " +
          ",".join(sorted(set(x[0] for x in seen))))
    check(all(x[1] == 0 and x[2] == 0 for x in seen),
          "batch suspended while online is active (W_busy 0, allowance 0) throughout")
    check(len(set((x[2], x[3]) for x in seen)) == 1, "windows constant: nothing oscillates")
    check(back is not None and back <= 2.0, "throughput given back within 2 s of raising "
          f"the target ({'never' if back is None else f'{back:.2f} s'})")
    check(rate_after > 1.1 * rate_floor, f"batch commands/s {rate_after:.0f} after vs "
          f"{rate_floor:.0f} at the floor")


# ---- pin ----

def pin(build):
    """An operator's pinned allowance (run --allowance, set --allowance) holds through
    violations of an unreachable target; handed back (auto), the law takes the batch job to
    its floor."""
    T_us = 50  # below any burst's time: every sample is late
    rows = []

    def watch(ctl, pid, seconds):
        seen, t0 = [], time.monotonic()
        while time.monotonic() - t0 < seconds:
            st = ctl.status()
            v, x = service(st), proc(st, pid)
            if v and x:
                seen.append((v["state"], v["why"], v["allowance_ns"], x["w_idle"]))
            time.sleep(0.25)
        return seen

    with Scenario(build, "ctl-pin", mode="fifo") as s:
        ctl = Ctl(s, "--p99-target", f"{T_us}us", "--allowance", "3ms")
        b = batch(s)
        time.sleep(0.5)
        o = online(s, 14)
        time.sleep(1)
        pinned = watch(ctl, b.pid, 3)
        ctl.set("--allowance", "auto")
        time.sleep(2)
        auto = watch(ctl, b.pid, 2)
        ctl.set("--allowance", "5ms")
        time.sleep(0.5)
        repinned = watch(ctl, b.pid, 2)
        st = ctl.status()
        viol = service(st).get("violations", 0)
        s.result(o)
        b.send_signal(signal.SIGINT)
        s.result(b)
        log_ctl = ctl.stop()
    if os.environ.get("CTL_DEBUG"):
        print(log_ctl)
    for phase, seen in (("--allowance 3ms", pinned), ("set auto", auto),
                        ("set 5ms", repinned)):
        last = seen[-1] if seen else ("-", "-", 0, 0)
        rows.append({"phase": phase, "state": last[0], "why": last[1],
                     "allowance_us": last[2] / 1e3, "w_idle": last[3]})
    table(f"pinned allowance (target {T_us} us, always late)", rows,
          ["phase", "state", "why", "allowance_us", "w_idle"])
    check(pinned and all(x[2] == 3e6 and "pinned" in x[1] for x in pinned),
          "pinned at 3 ms from the start, through violations: " +
          ",".join(sorted(set(f"{x[0]}/{x[2]:.0f}" for x in pinned))))
    check(pinned and all(x[3] > 1 for x in pinned), "the batch job's idle window open (> 1)")
    check(auto and all(x[2] == 0 and x[0] in ("unreachable", "suspended") for x in auto),
          "handed back: the law at its floor: " +
          ",".join(sorted(set(f"{x[0]}/{x[2]:.0f}" for x in auto))))
    check(repinned and all(x[2] == 5e6 and "pinned" in x[1] for x in repinned),
          "pinned again at 5 ms by xsched-ctl set")
    check(viol > 0, f"violations still counted while pinned ({viol})")


# ---- kill ----

def kill(build):
    S = solo(build, 4)["p99_ms"]
    T = 1.5 * S
    rows = []
    with Scenario(build, "ctl-kill", mode="fifo") as s:
        ctl = Ctl(s, "--p99-target", f"{T * 1000:.0f}us")
        b = batch(s)
        time.sleep(0.5)
        o = online(s, 8)
        time.sleep(3)
        x = proc(ctl.status(), b.pid)
        rows.append({"moment": "controlled", "w_busy": x["w_busy"], "w_idle": x["w_idle"],
                     "applied": x["window_applied"], "seconds": 0.0})
        t_kill = time.monotonic()
        ctl.p.kill()
        ctl.p.wait()
        back = None
        while time.monotonic() - t_kill < 3:
            x = proc(ctl.status(), b.pid)
            if x and x["window_applied"] >= UNLIMITED:
                back = time.monotonic() - t_kill
                break
            time.sleep(0.02)
        rows.append({"moment": "after SIGKILL", "w_busy": "-", "w_idle": "-",
                     "applied": x["window_applied"] if x else "-",
                     "seconds": back if back is not None else float("nan")})
        s.result(o)
        b.send_signal(signal.SIGINT)
        s.result(b)
    table("controller killed (SIGKILL): the batch job's window as its shim applies it", rows,
          ["moment", "w_busy", "w_idle", "applied", "seconds"])
    check(rows[0]["applied"] < UNLIMITED, "bounded while the controller ran")
    # Issue 6: within 1 s. The shim falls back once the heartbeat is older than
    # XSCHED_HEARTBEAT_STALE_NS (500 ms; the last beat is at most 100 ms before the kill),
    # plus at most one suspended-thread recheck (200 ms): 0.7 s, 0.3 s to spare for a loaded
    # machine and this loop's 20 ms polling.
    check(back is not None and back <= 1.0, "default window within 1 s of SIGKILL "
          f"({'never' if back is None else f'{back:.2f} s'})")


# ---- cold ----

def cold(build):
    """The service's first burst loads its code (200 ms on the simulated driver, as lazy
    module loading and PyTorch's first pass take hundreds of ms on a real GPU): shown in the
    process's latency, counted as cold, and no violation for the law to act on."""
    T = 30.0  # far above the simulated service's bursts (1 ms), far below the cold one
    load_ms = 200
    with Scenario(build, "ctl-cold", mode="fifo") as s:
        ctl = Ctl(s, "--p99-target", f"{T:.0f}ms")
        b = batch(s)
        time.sleep(0.5)
        o = s.start("online", "--rate", str(RATE), "--duration", "3", *ONLINE, shim=HIGH,
                    extra_env={"XSCHED_SIM_LOAD_US": str(load_ms * 1000)})
        r = s.result(o)
        st = ctl.status()
        v = service(st)
        x = proc(st, o.pid)
        b.send_signal(signal.SIGINT)
        s.result(b)
        ctl.stop()
    rows = [{"cold_bursts": v["cold_bursts"] if v else "-",
             "samples": v["samples"] if v else "-",
             "violations": v["violations"] if v else "-",
             "shown_ms": ms(x["lat_sum_ns"]) if x else float("nan"),
             "app_max_ms": r["max_ms"]}]
    table(f"cold start: the service's first launch takes {load_ms} ms, target {T:.0f} ms",
          rows, ["cold_bursts", "samples", "violations", "shown_ms", "app_max_ms"])
    check(v is not None and v["cold_bursts"] >= 1, "the first burst was counted cold")
    check(v is not None and v["samples"] >= 40, "the law read the service's other bursts")
    check(v is not None and v["violations"] == 0, "the cold burst was no violation")
    check(x is not None and ms(x["lat_sum_ns"]) >= load_ms,
          "the process's latency shows the cold burst")


# ---- native ----

def mps_dir():
    """A directory that looks like a running MPS server's pipe directory (its `control` is a
    named pipe): the shim then reports MPS client priority as in effect for a process that
    set CUDA_MPS_CLIENT_PRIORITY. The simulated device does not rank MPS clients, so a law
    that starts open must still find the target by tightening."""
    d = tempfile.mkdtemp(prefix="xsched-mps-")
    os.mkfifo(os.path.join(d, "control"), 0o600)
    return d


def native_once(build, T, with_knob):
    d = mps_dir()
    knob = {"CUDA_MPS_PIPE_DIRECTORY": d}
    if with_knob:
        knob["CUDA_MPS_CLIENT_PRIORITY"] = "1"
    try:
        with Scenario(build, "ctl-native", mode="fifo") as s:
            ctl = Ctl(s, "--p99-target", f"{T * 1000:.0f}us")
            b = batch(s, dict(LOW, **knob))
            time.sleep(0.5)
            log = os.path.join(d, "lat.txt")
            o = online(s, 10, extra=("--latency-log", log))
            time.sleep(2)
            x = proc(ctl.status(), b.pid)
            acts = x.get("actuators", []) if x else []
            s.result(o)
            b.send_signal(signal.SIGINT)
            s.result(b)
            err = ctl.stop()
            late = sorted(l for t, l in buckets_raw(log) if t >= 4.0)
            p99 = late[min(len(late) - 1, int(0.99 * len(late)))] if late else float("nan")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"knob": "MPS client priority" if with_knob else "none",
            "actuators": ",".join(acts) or "-",
            "started open": "starting open" in err, "p99_after_4s_ms": p99,
            "tightened": any(w in err for w in ("tightening", "suspended", "unreachable"))}


def native(build):
    """Issue 11: where a native knob (MPS client priority) already ranks the batch job below
    the service, the law starts open (the knob's own behaviour) and tightens only on
    violations; without the knob it starts at the floor. On the simulated device the knob
    does nothing, so the open start meets violations and must still converge to the target."""
    S = solo(build, 4)["p99_ms"]
    # At most 10 ms: half the batch job's 20 ms iteration, which an open start queues ahead
    # of the service, so the open start surely meets violations even when a noisy solo run
    # makes 3x solo loose.
    T = min(3.0 * S, 10.0)
    rows = []
    for with_knob in (True, False):
        for attempt in range(ATTEMPTS if with_knob else 1):
            r = native_once(build, T, with_knob)
            r["attempt"] = attempt + 1
            rows.append(r)
            if r["p99_after_4s_ms"] <= T and (r["tightened"] or not with_knob):
                break
    table(f"native knob as the starting point (fifo; target {T:.3f} ms = min(3x solo, 10 ms))",
          rows,
          ["knob", "attempt", "actuators", "started open", "tightened", "p99_after_4s_ms"])
    k = [r for r in rows if r["knob"] != "none"]
    n = [r for r in rows if r["knob"] == "none"]
    check(all("mps_priority" in r["actuators"] for r in k), "the batch job reports MPS client "
          "priority in effect")
    check(all(r["started open"] for r in k), "with the knob the law starts open")
    check(all(not r["started open"] for r in n), "without it the law starts at the floor")
    check(k[-1]["tightened"], "an open start meeting violations tightens")
    check(k[-1]["p99_after_4s_ms"] <= T, f"P99 after 4 s held with the knob "
          f"({k[-1]['p99_after_4s_ms']:.3f} ms <= {T:.3f} ms)")


# ---- turns ----

def turns_once(build, T, turns, seconds=8):
    """Three batch jobs and the service on a time-sliced device, under xsched-ctl (T) with
    the turns given, or natively (T None). Polls status meanwhile."""
    with Scenario(build, f"ctl-turns-{turns}", mode="timeslice", slice_us=2000) as s:
        ctl = Ctl(s, "--p99-target", f"{T * 1000:.0f}us", "--turns", turns) if T else None
        bs = [batch(s) for _ in range(3)]
        time.sleep(0.5)
        o = online(s, seconds)
        polls = []
        time.sleep(2)
        while ctl and o.poll() is None and len(polls) < 4 * (seconds - 3):
            st = ctl.status()
            polls.append({x["pid"]: (x.get("turn"), x.get("actuators", []))
                          for x in st["processes"] if x["pid"] in [b.pid for b in bs]})
            time.sleep(0.25)
        r = s.result(o)
        for b in bs:
            b.send_signal(signal.SIGINT)
        it = [s.result(b)["iters_per_s"] for b in bs]
        if ctl:
            ctl.stop()
    r["config"] = "native" if not T else f"xsched turns {turns}"
    r["batch_iter_s"] = sum(it)
    r["per_job"] = " / ".join(f"{x:.1f}" for x in it)
    return r, it, polls


def turns(build):
    """Issue 11: without MPS the GPU time-slices between contexts, and a burst waits behind
    every busy batch context in turn; the batch jobs take turns instead (one runs, the others
    wait), which costs them nothing on a time-sliced device."""
    S = solo(build, 6)["p99_ms"]
    # At most 5 ms: natively a burst waits for up to three 2 ms slices, so a noisy solo run
    # cannot make the target one that the native schedule meets.
    T = min(3 * S, 5.0)
    rows = []
    native_r, _, _ = turns_once(build, None, "off", 5)
    rows.append(native_r)
    off, _, _ = turns_once(build, T, "off")
    rows.append(off)
    for attempt in range(1, ATTEMPTS + 1):
        on, it, polls = turns_once(build, T, "100ms")
        on["config"] += f" #{attempt}"
        rows.append(on)
        if on["p99_ms"] <= T and on["batch_iter_s"] >= 0.75 * native_r["batch_iter_s"]:
            break
    table(f"turns (timeslice 2 ms; three batch jobs; T = min(3x solo, 5 ms) = {T:.3f} ms)",
          rows,
          ["config", "p50_ms", "p99_ms", "max_ms", "batch_iter_s", "per_job"])
    check(native_r["p99_ms"] > T, f"natively the service is late ({native_r['p99_ms']:.2f} ms "
          f"> T {T:.2f} ms)")
    full = [p for p in polls if len(p) == 3]
    check(len(full) >= 8, f"{len(full)} status polls saw all three batch jobs")
    check(all("time_sliced" in a for p in full for _, a in p.values()),
          "their shims report the device time-sliced")
    one = [p for p in full if sorted(t or "-" for t, _ in p.values()) ==
           ["holds", "waits", "waits"]]
    check(len(one) >= 0.75 * len(full), f"one holds the turn and two wait in {len(one)} of "
          f"{len(full)} polls")
    holders = {pid for p in one for pid, (t, _) in p.items() if t == "holds"}
    check(len(holders) == 3, f"the turn went round: {len(holders)} of 3 jobs held it")
    check(on["p99_ms"] <= T, f"P99 {on['p99_ms']:.3f} ms <= T {T:.3f} ms with turns")
    # The simulated device switches contexts for free and at once when one runs dry, so
    # here turns cost batch throughput (the holder keeps its whole slice; ~13% below the
    # same target without turns); on an H200, where switches are not free, they gave it
    # back (bench/results: 65% of native without turns, 103% with).
    check(on["batch_iter_s"] >= 0.75 * native_r["batch_iter_s"],
          f"batch {on['batch_iter_s']:.1f} iter/s with turns >= 75% of native "
          f"{native_r['batch_iter_s']:.1f} (without turns: {off['batch_iter_s']:.1f})")
    mean = sum(it) / len(it)
    check(min(it) >= 0.5 * mean, f"every job progresses: {on['per_job']} iter/s")


# ---- unshimmed ----

def unshimmed(build):
    """The service runs without the shim: only the eBPF observer sees its bursts. It gets
    a name of its own (a symlink), so that the controller's rule cannot match another
    test's `online` on the same machine."""
    name = f"xsol{os.getpid()}"[:15]
    link = os.path.join("/tmp", name)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.join(os.path.abspath(build), "bin", "online"), link)

    def start_online(s, seconds):
        p = subprocess.Popen([link, "--rate", str(RATE), "--duration", str(seconds), *ONLINE],
                             env=s.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        s.procs.append(p)
        return p

    try:
        with Scenario(build, "ctl-unshimmed-solo", mode="fifo") as s:
            alone = s.result(start_online(s, 6))
        S = alone["p99_ms"]
        T = 3 * S
        rows = [dict(alone, config="online alone (no shim)")]
        # One controller for every attempt: its probes attach once (attaching and
        # detaching take the kernel seconds, and serialise with other controllers').
        with Scenario(build, "ctl-unshimmed", mode="fifo") as s:
            ctl = Ctl(s, "--target", f"{name}={T * 1000:.0f}us", ebpf=True)
            st = ctl.status()
            if not st["controller"]["ebpf"]:
                ctl.stop()
                print("skip: eBPF observer unavailable: " + st["controller"]["note"])
                sys.exit(SKIP)
            seen = 0
            for attempt in range(1, ATTEMPTS + 1):
                b = batch(s)
                time.sleep(0.5)
                o = start_online(s, 8)
                time.sleep(7)
                v = service(ctl.status(), name)
                r = s.result(o)
                b.send_signal(signal.SIGINT)
                it = s.result(b)["iters_per_s"]
                samples = (v["samples"] if v else 0) - seen
                seen += samples
                r.update(config=f"xsched T={T:.2f}ms #{attempt}", batch_iter_s=it,
                         ebpf_samples=samples)
                rows.append(r)
                if r["p99_ms"] <= T:
                    break
            ctl.stop()
    finally:
        os.unlink(link)
    table(f"service without the shim (eBPF only), T = 3x solo = {T:.2f} ms", rows,
          ["config", "p50_ms", "p99_ms", "max_ms", "batch_iter_s", "ebpf_samples"])
    check(r["ebpf_samples"] >= 100, f"the controller saw {r['ebpf_samples']} of the "
          "service's bursts through eBPF")
    check(r["p99_ms"] <= T, f"online P99 {r['p99_ms']:.3f} ms <= T {T:.3f} ms" +
          (f" (attempt {attempt} of {ATTEMPTS})" if attempt > 1 else ""))


SCENARIOS = {"targets": targets, "spike": spike, "unreachable": unreachable, "pin": pin, "kill": kill,
             "unshimmed": unshimmed, "native": native, "turns": turns, "cold": cold}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print(__doc__)
        sys.exit(2)
    build = sys.argv[1]
    for need in ("bin/online", "bin/batch", "bin/simgpu", "bin/xsched-ctl", "lib/libxsched.so",
                 "sim/lib/libcuda.so.1"):
        if not os.path.exists(os.path.join(build, need)):
            print(f"skip: {need} is not built")
            sys.exit(SKIP)
    SCENARIOS[sys.argv[2]](build)
    if failures:
        print(f"\n{len(failures)} check(s) failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
