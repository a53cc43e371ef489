#!/usr/bin/env python3
"""Fault injection on the simulated GPU, as real processes (issue 9).

usage: faults.py BUILD_DIR SCENARIO

  controller  SIGKILL and SIGSTOP of xsched-ctl while it holds a batch job suspended: the job
              runs again within 1 s; a restarted (or SIGCONT'ed) controller adopts every
              running process (listed in its status, windows under its control)
  app_kill    SIGKILL of an app with commands in flight: its slot is reclaimed, the others
              finish correctly; a slot naming a live pid with another start time (pid reuse)
              is never adopted and is reclaimed
  shm         the protocol segment corrupted (magic, version, layout) or truncated before
              apps start, and corrupted, scrambled and truncated while they run: every app
              finishes with correct results, a new one passes through with one warning
  api_errors  the GPU API's error codes reach the app unchanged through the shim, with a
              static window and under the controller
  ring_full   no consumer of the latency ring: samples beyond its length are dropped and
              counted, the app never blocks

Every app's commands are checked against the device model's ground truth (all completed,
none lost; correctness digests: none reordered). Writes BUILD/reliability/faults_SCENARIO.json
for the summary table. Exit 0 passed, 1 failed, 77 something it needs is not built.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

from relcommon import (Ctl, Scenario, Tally, finish, ground_truth, need, progress, shim_env,
                       spawn, stats, wait_for)

BATCH = ["--duration", "0", "--kernel-us", "2000", "--kernels-per-iter", "4"]
ONLINE = ["--rate", "20", "--duration", "0", "--kernels", "4", "--kernel-us", "200",
          "--warmup", "0"]
CORR = ["--rounds", "20", "--kernel-us", "300"]


class Repeat:
    """Runs the correctness workload back to back (a fresh process each time) until
    stopped, so that every fault lands while some run is mid-flight."""

    def __init__(self, s, env, args=CORR):
        self.s, self.env, self.args = s, env, args
        self.runs = []
        self.halt = threading.Event()
        self.th = threading.Thread(target=self.loop, daemon=True)
        self.th.start()

    def loop(self):
        while not self.halt.is_set():
            p = spawn(self.s, "correctness", *self.args, env=self.env)
            self.runs.append((p,) + finish(p, timeout=300))

    def stop(self):
        self.halt.set()
        self.th.join(timeout=300)
        return self.runs


def check_runs(t, s, runs, what):
    t.check(len(runs) > 0, f"{what}: {len(runs)} correctness runs")
    for p, rc, res, err in runs:
        ground_truth(t, s, p, res, f"{what} pid {p.pid}")


def stopped(s, pid, quiet=0.3):
    """The process makes no progress on the device and has nothing in flight."""
    a = progress(s, pid)
    time.sleep(quiet)
    b = progress(s, pid)
    return a == b and b[0] == b[1]


def end_batch(t, s, b, what):
    b.send_signal(signal.SIGINT)
    rc, res, err = finish(b)
    ground_truth(t, s, b, res, what, kernels=res["kernels"] if res else None)
    return err


def testctl_pids(s):
    r = s.tool("xsched-testctl", "--dump")
    return {p["pid"] for p in json.loads(r.stdout)["procs"]}


# ---- controller ----

def controller(build, t):
    with Scenario(build, "rel-ctl", mode="timeslice") as s:
        ctl = Ctl(s, "--p99-target", "20ms")
        b = spawn(s, "batch", *BATCH, env=shim_env(s, priority="low"), nice=19)
        o = spawn(s, "online", *ONLINE, env=shim_env(s, priority="high"))
        rep = Repeat(s, shim_env(s, priority="low"))
        t.check(wait_for(lambda: ctl.proc(b.pid) and ctl.proc(o.pid), 5) is not None,
                "the controller lists batch and online")

        for sig in (signal.SIGKILL, signal.SIGSTOP):
            name = signal.Signals(sig).name
            t.check(ctl.set(b.pid, "--window", "0"), "set batch --window 0")
            t.check(wait_for(lambda: stopped(s, b.pid), 3) is not None,
                    f"before {name}: batch suspended (no progress on the device)")
            a = progress(s, b.pid)
            t.fault(f"{name} to xsched-ctl (pid {ctl.p.pid})")
            os.kill(ctl.p.pid, sig)
            if sig == signal.SIGKILL:
                ctl.p.wait()
            back = wait_for(lambda: progress(s, b.pid)[0] > a[0], 3)
            t.check(back is not None and back <= 1.0, f"after {name}: batch runs again "
                    f"within 1 s ({'never' if back is None else f'{back:.2f} s'})")
            t.check(o.poll() is None and b.poll() is None, f"after {name}: apps still run")
            if sig == signal.SIGKILL:
                ctl.start()
                what = "restarted controller"
            else:
                os.kill(ctl.p.pid, signal.SIGCONT)
                what = "SIGCONT'ed controller"
            live = [b.pid, o.pid] + [r.pid for r in s.procs if r.poll() is None and
                                     os.path.basename(r.args[0]) == "correctness"]
            seen = wait_for(lambda: all(ctl.proc(p) for p in live), 3)
            t.check(seen is not None, f"{what} lists every running app ({len(live)})")
            if sig == signal.SIGSTOP:
                # The same controller: its operator setting (window 0) holds again, then
                # goes back to the law.
                t.check(wait_for(lambda: stopped(s, b.pid), 3) is not None,
                        f"{what}: batch suspended again (its grant holds)")
                t.check(ctl.set(b.pid, "--window", "auto"), "set batch --window auto")
            ctrl = wait_for(lambda: (ctl.proc(b.pid) or {}).get("mode") == "control", 3)
            x = ctl.proc(b.pid) or {}
            t.check(ctrl is not None, f"{what} controls the batch job's windows (mode "
                    f"{x.get('mode')}, W_busy {x.get('w_busy')}, W_idle {x.get('w_idle')})")

        runs = rep.stop()
        o.send_signal(signal.SIGINT)
        rc, res, err = finish(o)
        ground_truth(t, s, o, res, "online")
        end_batch(t, s, b, "batch")
        check_runs(t, s, runs, "correctness")
        ctl.stop()


# ---- app_kill ----

def app_kill(build, t):
    with Scenario(build, "rel-kill", mode="timeslice") as s:
        ctl = Ctl(s, "--p99-target", "20ms")
        victim = spawn(s, "batch", "--duration", "0", "--kernel-us", "50000",
                       "--kernels-per-iter", "8", env=shim_env(s, priority="low"), nice=19)
        b = spawn(s, "batch", *BATCH, env=shim_env(s, priority="low", window=2), nice=19)
        rep = Repeat(s, shim_env(s, priority="low"))
        t.check(wait_for(lambda: ctl.proc(victim.pid) and ctl.proc(b.pid), 5) is not None,
                "the controller lists both batch jobs")
        t.check(wait_for(lambda: (lambda p: p[0] > p[1] + 1)(progress(s, victim.pid)), 5)
                is not None, "the victim has commands in flight")
        t.fault(f"SIGKILL to an app with commands in flight (pid {victim.pid})")
        victim.kill()
        victim.wait()
        gone = wait_for(lambda: victim.pid not in testctl_pids(s), 3, 0.1)
        t.check(gone is not None, "its slot is reclaimed within 3 s" +
                (f" ({gone:.2f} s)" if gone is not None else ""))
        t.check(wait_for(lambda: ctl.proc(victim.pid) is None, 2) is not None,
                "the controller no longer lists it")

        # Pid reuse: a slot left by an earlier process of a pid that now belongs to another
        # process (same pid, another start time).
        other = subprocess.Popen(["sleep", "30"])
        s.procs.append(other)
        t.fault(f"a slot for live pid {other.pid} with a foreign start time")
        r = s.tool("xsched-testctl", "--dump")  # the segment exists: testctl attaches
        r = s.tool("xs-shm-fault", "forge", str(other.pid), "1", "reused")
        t.check(r.returncode == 0, f"forged slot {r.stdout.strip()}")
        adopted = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3 and other.pid in testctl_pids(s):
            if ctl.proc(other.pid):
                adopted.append(time.monotonic() - t0)
            time.sleep(0.05)
        t.check(not adopted, "the controller never adopted the reused pid"
                + (f" (listed {len(adopted)} times)" if adopted else ""))
        t.check(other.pid not in testctl_pids(s), "the forged slot is reclaimed within 3 s")
        other.kill()
        other.wait()

        runs = rep.stop()
        end_batch(t, s, b, "batch beside the killed app")
        check_runs(t, s, runs, "correctness beside the killed app")
        t.processes += 1  # the victim: killed, its fate checked above
        ctl.stop()


# ---- shm ----

def one_warning(t, err, what):
    lines = [l for l in err.splitlines() if l.startswith("xsched:")]
    t.check(len(lines) == 1 and "passing all calls through" in lines[0],
            f"{what}: one warning: {lines}")


def shm_path(s):
    return "/dev/shm/" + s.env["XSCHED_SHM"]


def fresh_segment(s):
    if os.path.exists(shm_path(s)):
        os.unlink(shm_path(s))
    s.tool("xsched-testctl", "quit")  # creates it, leaves no controller behind


def shm(build, t):
    env_kw = dict(priority="low", window=1)
    with Scenario(build, "rel-shm", mode="timeslice") as s:
        fresh_segment(s)
        size = os.path.getsize(shm_path(s))
        for fault, args in (("magic", []), ("version", []), ("layout", []),
                            ("truncate", ["0"]), ("truncate", ["100"]),
                            ("truncate", [str(size - 4096)])):
            fresh_segment(s)
            what = f"before start: {fault} {' '.join(args)}".strip()
            t.fault(what)
            t.check(s.tool("xs-shm-fault", fault, *args).returncode == 0, f"{what}: applied")
            p = spawn(s, "correctness", *CORR, env=shim_env(s, **env_kw))
            rc, res, err = finish(p)
            ground_truth(t, s, p, res, what)
            one_warning(t, err, what)

        # A segment of another version (an upgrade, tmpfs keeping the old one): the controller
        # replaces it, says so, and controls an app started afterwards.
        for fault in ("version", "layout"):
            fresh_segment(s)
            what = f"controller start on a segment with another {fault}"
            t.fault(what)
            t.check(s.tool("xs-shm-fault", fault).returncode == 0, f"{what}: applied")
            ctl = Ctl(s, "--p99-target", "50ms")
            b = spawn(s, "batch", *BATCH, env=shim_env(s, priority="low"), nice=19)
            seen = wait_for(lambda: ctl.proc(b.pid) is not None, 5)
            t.check(seen is not None, f"{what}: an app started afterwards registers in the "
                    "new segment and the controller lists it")
            end_batch(t, s, b, f"{what}: batch")
            ctl.p.send_signal(signal.SIGINT)
            _, err = ctl.p.communicate(timeout=60)
            t.check(ctl.p.returncode == 0 and "another xsched version" in err and
                    "replacing it" in err, f"{what}: replaced, said on stderr: {err.strip()!r}")

        # While apps run: header faults (running apps validated it at start: they go on;
        # a new app refuses it), then garbage in the fields readers must bound.
        fresh_segment(s)
        b = spawn(s, "batch", *BATCH, env=shim_env(s, priority="low", window=2), nice=19)
        rep = Repeat(s, shim_env(s, **env_kw))
        t.check(wait_for(lambda: b.pid in testctl_pids(s), 5) is not None, "batch registered")
        time.sleep(0.5)
        for fault, args in (("scramble", ["12345"]), ("scramble", ["987654321"]),
                            ("magic", [])):
            what = f"while running: {fault} {' '.join(args)}".strip()
            t.fault(what)
            t.check(s.tool("xs-shm-fault", fault, *args).returncode == 0, f"{what}: applied")
            time.sleep(0.7)
        p = spawn(s, "correctness", *CORR, env=shim_env(s, **env_kw))
        rc, res, err = finish(p)
        ground_truth(t, s, p, res, "an app started after the corruption")
        one_warning(t, err, "an app started after the corruption")
        t.fault("while running: truncate 0")
        t.check(s.tool("xs-shm-fault", "truncate", "0").returncode == 0, "truncated to 0")
        time.sleep(1.0)
        runs = rep.stop()
        err = end_batch(t, s, b, "batch through the corruption")
        shrank = [l for l in err.splitlines() if "segment shrank" in l]
        t.check(len(shrank) == 1 and "passing all calls through" in shrank[0],
                f"batch said once that the segment shrank: {shrank}")
        check_runs(t, s, runs, "correctness through the corruption")


# ---- api_errors ----

def api_errors(build, t):
    args = ["--expect-error", "--dangling-handles"]
    with Scenario(build, "rel-err", mode="timeslice") as s:
        p = spawn(s, "correctness", *args)
        rc0, base, _ = finish(p)
        t.check(rc0 == 0 and base and base["cases"] == base["passed"],
                f"native: {base}")
        ctl = None
        for label, env in (("static window 1", shim_env(s, priority="low", window=1)),
                           ("controller", shim_env(s, priority="low")),
                           ("controller, high", shim_env(s, priority="high"))):
            if label.startswith("controller") and not ctl:
                ctl = Ctl(s, "--p99-target", "5ms")
            p = spawn(s, "correctness", *args, env=env)
            rc, res, err = finish(p)
            t.fault(f"{base['cases'] if base else '?'} erroring GPU calls ({label})")
            t.processes += 1
            t.check(rc == rc0 and res == base, f"{label}: same codes as native: {res}")
            rows = stats(s, p.pid)
            sub = sum(r["submitted"] for r in rows)
            if t.check(sub == sum(r["completed"] for r in rows),
                       f"{label}: device model: every accepted command completed ({sub})"):
                t.commands += sub
        ctl.stop()


# ---- ring_full ----

def ring_full(build, t):
    n, rate = 900, 400
    with Scenario(build, "rel-ring", mode="timeslice") as s:
        fresh_segment(s)
        t.fault(f"no consumer of the latency ring ({n} bursts, ring of 512)")
        t0 = time.monotonic()
        p = spawn(s, "online", "--rate", rate, "--requests", n, "--kernels", 1,
                  "--kernel-us", 50, "--copy-bytes", 64, "--warmup", 0,
                  env=shim_env(s, priority="high"))
        rc, res, err = finish(p)
        wall = time.monotonic() - t0
        ground_truth(t, s, p, res, "online")
        d = json.loads(s.tool("xsched-testctl", "--dump").stdout)
        x = [q for q in d["procs"] if q["pid"] == p.pid]
        t.check(len(x) == 1, "its slot stays readable after exit")
        if x:
            bursts = sum(g["bursts"] for g in x[0]["gpus"])
            kept = len(x[0]["latencies"])
            t.check(bursts >= n, f"{bursts} bursts measured for {n} requests")
            t.check(kept == 512, f"the ring holds {kept} samples (its length, 512)")
            t.check(x[0]["ring_dropped"] == bursts - kept,
                    f"dropped samples counted: {x[0]['ring_dropped']} == {bursts} - {kept}")
        if res:
            t.check(res["rate_achieved"] >= 0.8 * rate,
                    f"never blocked: {res['rate_achieved']:.0f} req/s of {rate} "
                    f"({wall:.2f} s wall for {n} requests)")


SCENARIOS = {"controller": controller, "app_kill": app_kill, "shm": shm,
             "api_errors": api_errors, "ring_full": ring_full}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print(__doc__)
        sys.exit(2)
    build = os.path.abspath(sys.argv[1])
    need(build, "bin/online", "bin/batch", "bin/correctness", "bin/simgpu", "bin/xsched-ctl",
         "bin/xsched-testctl", "bin/xs-shm-fault", "lib/libxsched.so", "sim/lib/libcuda.so.1")
    t = Tally(build, "faults", "faults_" + sys.argv[2])
    try:
        SCENARIOS[sys.argv[2]](build, t)
    except Exception as e:  # a crash of the test is a failure, recorded as one
        t.check(False, f"scenario raised {type(e).__name__}: {e}")
    t.finish()


if __name__ == "__main__":
    main()
