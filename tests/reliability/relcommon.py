"""Shared by the reliability tests: checks, the device model's ground truth, and the JSON
result each test leaves in BUILD/reliability/ for the summary table (summary.py).

A result file: {"suite", "test", "faults", "processes", "commands", "inputs", "failures",
"checks"}: faults injected, processes whose outcome was checked, commands whose completion
the device model confirmed, inputs tried (bad input, fuzzing), checks that failed, checks
made."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
from xsched_scenario import Scenario  # noqa: E402,F401

SKIP = 77


class Tally:
    def __init__(self, build, suite, test):
        self.build, self.suite, self.test = build, suite, test
        self.faults = self.processes = self.commands = self.inputs = 0
        self.failed = []
        self.checks = 0

    def check(self, cond, what):
        print(("ok: " if cond else "FAIL: ") + what, flush=True)
        self.checks += 1
        if not cond:
            self.failed.append(what)
        return bool(cond)

    def fault(self, what):
        self.faults += 1
        print(f"fault: {what}", flush=True)

    def write(self):
        d = os.path.join(self.build, "reliability")
        os.makedirs(d, exist_ok=True)
        res = {"suite": self.suite, "test": self.test, "faults": self.faults,
               "processes": self.processes, "commands": self.commands, "inputs": self.inputs,
               "failures": len(self.failed), "checks": self.checks}
        with open(os.path.join(d, f"{self.test}.json"), "w") as f:
            json.dump(res, f)
            f.write("\n")
        return res

    def finish(self):
        self.write()
        if self.failed:
            print(f"\n{len(self.failed)} check(s) failed")
        sys.exit(1 if self.failed else 0)


def need(build, *paths):
    for p in paths:
        if not os.path.exists(os.path.join(build, p)):
            print(f"skip: {p} is not built")
            sys.exit(SKIP)


def shim_env(s, **settings):
    env = dict(s.env)
    env["LD_PRELOAD"] = os.path.join(s.build, "lib", "libxsched.so")
    for k, v in settings.items():
        env["XSCHED_" + k.upper()] = str(v)
    return env


def spawn(s, prog, *args, env=None, nice=0):
    if prog == "correctness" and env and "LD_PRELOAD" in env:
        # The stream-priority actuator (on by default below normal priority) changes the
        # priorities the correctness workload reads back, on purpose; its results are
        # checked exactly here, so it runs with the actuator off (as the shim scenarios'
        # exact runs do).
        env = dict(env)
        env.setdefault("XSCHED_STREAM_PRIORITY", "off")
    p = subprocess.Popen([os.path.join(s.bin, prog), *[str(a) for a in args]],
                         env=env or s.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, preexec_fn=(lambda: os.nice(nice)) if nice else None)
    s.procs.append(p)
    return p


def finish(p, timeout=120):
    """(exit code, the last JSON line or None, stderr)."""
    out, err = p.communicate(timeout=timeout)
    lines = [l for l in out.splitlines() if l.startswith("{")]
    return p.returncode, (json.loads(lines[-1]) if lines else None), err


def stats(s, pid=None):
    r = s.tool("simgpu", "stats", "--json", *(["--pid", str(pid)] if pid else []))
    return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]


def progress(s, pid):
    rows = stats(s, pid)
    return sum(r["submitted"] for r in rows), sum(r["completed"] for r in rows)


def ground_truth(t, s, p, res, what, kernels=None, rows=None):
    """The device model saw every command of exited process p complete (none lost); its
    own result says its data is right (none reordered: the correctness workload's digest
    composes order-dependent affine maps) and, where it counts them, that the device saw
    exactly the kernels it launched. `rows`: p's stats read when it exited, for a test
    that starts more processes than the model keeps (it reuses dead processes' slots)."""
    if rows is None:
        rows = stats(s, p.pid)
    sub = sum(r["submitted"] for r in rows)
    done = sum(r["completed"] for r in rows)
    t.processes += 1
    ok = t.check(p.returncode == 0 and res is not None, f"{what}: exit {p.returncode}, "
                 f"result {'printed' if res else 'missing'}")
    ok &= t.check(sub > 0 and sub == done, f"{what}: device model: {done} of {sub} "
                  "commands completed")
    if res and res.get("workload") == "correctness":
        ok &= t.check(res["ok"] and res["digest"] == res["expected"],
                      f"{what}: data correct (digest {res['digest']}, expected "
                      f"{res['expected']}, {res['mismatches']} mismatches)")
    if kernels is not None:
        ok &= t.check(sub == kernels, f"{what}: device saw {sub} commands, the program "
                      f"launched {kernels}")
    if ok:
        t.commands += sub
    return ok


class Ctl:
    """xsched-ctl run under scenario s."""

    def __init__(self, s, *args):
        self.s = s
        self.args = args
        self.start()

    def start(self):
        self.p = subprocess.Popen([os.path.join(self.s.bin, "xsched-ctl"), "run",
                                   "--no-ebpf", *self.args], env=self.s.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.s.procs.append(self.p)
        for _ in range(200):
            st = self.status()
            if st and st["controller"].get("pid") == self.p.pid:
                return
            time.sleep(0.05)
        raise RuntimeError("xsched-ctl run did not come up")

    def status(self):
        r = subprocess.run([os.path.join(self.s.bin, "xsched-ctl"), "status", "--json"],
                           env=self.s.env, capture_output=True, text=True, timeout=10)
        return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None

    def proc(self, pid):
        st = self.status()
        for x in (st or {}).get("processes", []):
            if x["pid"] == pid:
                return x
        return None

    def set(self, *args):
        r = subprocess.run([os.path.join(self.s.bin, "xsched-ctl"), "set", *map(str, args)],
                           env=self.s.env, capture_output=True, text=True, timeout=10)
        return r.returncode == 0

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        self.p.communicate(timeout=30)


def wait_for(cond, seconds, step=0.02):
    """Seconds until cond() held, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if cond():
            return time.monotonic() - t0
        time.sleep(step)
    return None
