#!/usr/bin/env python3
"""Integration scenarios for libxsched.so on the simulated GPU, as real processes.

usage: shim_scenarios.py --build DIR [--vendor cuda|hip] SCENARIO

Each scenario creates its own simulated device (/dev/shm/$XSCHED_SIM_NAME) and protocol
segment (/dev/shm/$XSCHED_SHM), both unique per test, and removes them afterwards. The
ground truth comes from `simgpu stats --json` (what the device model saw), the shim's own
view from `xsched-testctl --dump`. Every workload runs over the backend named by --vendor
(default cuda): the same scenario checks the CUDA and the HIP backend. Exit 0: passed;
1: failed; 77: a piece this needs (the vendor's simulated library, the workloads, simgpu) is
not built, or the scenario does not apply to that vendor.

Scenarios:
  correctness  the correctness workload prints the same with and without the shim (threads,
               streams, graphs, capture, fork, two devices, dlsym and per-thread entry
               points, error codes), with the window open and at window 1 (with the
               stream-priority actuator off, and on: same results)
  window       a static window and a granted one bound the commands in flight (ground truth)
  suspend      suspend holds a process at zero progress, resume restarts it, and when the
               controller dies it is released (fail-open)
  latency      the shim's burst latencies agree with the online workload's own (P50, P99);
               only the first burst to launch the kernel is marked cold
  fifo         online (high) beside batch (low, window 1) in fifo mode: online P99 close to
               solo, where without the shim it is many times worse
  passthrough  a broken segment or a bad setting: every call passes through, said once
  run          xsched-run: settings reach the program, bad values are refused (exit 2)
  exec         exec() in the same process takes over its slot; dlsym(RTLD_NEXT) unchanged
  coverage     every entry point the runtime serves for an exported name comes back as the
               shim's hook: CUDA through dlsym and cuGetProcAddress_v2 (xsched-cuda-probe),
               HIP through dlsym on the runtime's handle
  visible      (HIP) two simulated GPUs and remapped HIP_VISIBLE_DEVICES /
               ROCR_VISIBLE_DEVICES: processes seeing one physical GPU under different
               ordinals share its GPU record, and the other GPU has its own
  neither      a process that loads no GPU runtime (a plain C program, python3) behaves
               exactly as without the shim: exit code, stdout and stderr identical
"""
import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time

SKIP = 77
BUILD = None
VENDOR = "cuda"
SIM_LIBS = {"cuda": "libcuda.so.1", "hip": "libamdhip64.so.5"}


def bin_path(name):
    return os.path.join(BUILD, "bin", name)


def wl(name, *args):
    """A workload's command line, over the vendor under test."""
    return [bin_path(name), "--vendor", VENDOR] + [str(a) for a in args]


def lib_path():
    return os.path.join(BUILD, "lib", "libxsched.so")


def base_env():
    env = dict(os.environ)
    env.setdefault("XSCHED_SIM_NAME", f"xs-shim-sim-{os.getpid()}")
    env.setdefault("XSCHED_SHM", f"xs-shim-{os.getpid()}")
    env.pop("LD_PRELOAD", None)
    for k in ("XSCHED_PRIORITY", "XSCHED_WINDOW", "XSCHED_LOG"):
        env.pop(k, None)
    return env


def shimmed(env, **settings):
    e = dict(env)
    e["LD_PRELOAD"] = lib_path()
    for k, v in settings.items():
        e["XSCHED_" + k.upper()] = str(v)
    return e


def shm_path(env):
    return "/dev/shm/" + env["XSCHED_SHM"]


class Sim:
    """A fresh simulated device and protocol segment for one scenario."""

    def __init__(self, env, mode="fifo", devices=1):
        self.env = env
        self.mode, self.devices = mode, devices

    def __enter__(self):
        self.reset()
        return self

    def reset(self):
        subprocess.run([bin_path("simgpu"), "destroy"], env=self.env, capture_output=True)
        r = subprocess.run([bin_path("simgpu"), "create", "--mode", self.mode, "--devices",
                            str(self.devices)], env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("simgpu create: " + r.stderr.strip())
        try:
            os.unlink(shm_path(self.env))
        except FileNotFoundError:
            pass

    def __exit__(self, *exc):
        subprocess.run([bin_path("simgpu"), "destroy"], env=self.env, capture_output=True)
        for path in (shm_path(self.env), shm_path(self.env) + ".grant"):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def stats(self, pid=None):
        args = [bin_path("simgpu"), "stats", "--json"] + (["--pid", str(pid)] if pid else [])
        r = subprocess.run(args, env=self.env, capture_output=True, text=True, check=True)
        return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]

    def progress(self, pid):
        rows = self.stats(pid)
        return sum(r["submitted"] for r in rows), sum(r["completed"] for r in rows)


def dump(env):
    r = subprocess.run([bin_path("xsched-testctl"), "--dump"], env=env, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError("xsched-testctl --dump: " + r.stderr.strip())
    return json.loads(r.stdout)


def proc_of(d, pid):
    for p in d["procs"]:
        if p["pid"] == pid:
            return p
    return None


def run(cmd, env, timeout=120):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def json_line(out):
    lines = [l for l in out.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def pct(values, p):
    """Nearest-rank percentile, as the workloads compute it."""
    v = sorted(values)
    if not v:
        return 0.0
    return v[max(0, math.ceil(p / 100 * len(v)) - 1)]


class Checks:
    def __init__(self):
        self.ok = True

    def __call__(self, cond, what):
        print(("ok: " if cond else "FAIL: ") + what, flush=True)
        self.ok &= bool(cond)
        return cond


# ---------------------------------------------------------------------------------------


def scenario_correctness(env, check):
    variants = [
        ("timeslice", 1, []),
        # CUDA: entry points from dlsym as well as cuGetProcAddress (HIP always uses dlsym)
        ("timeslice", 1, ["--resolve", "dlsym"] if VENDOR == "cuda" else None),
        ("concurrent", 1, ["--ptds", "--threads", "6", "--rounds", "12", "--kernel-us", "10"]),
        ("timeslice", 1, ["--fork"]),
        # Kernels long enough that one thread syncs a stream while another flushes markers:
        # the query right after the sync must still find the stream idle.
        ("timeslice", 1, ["--rounds", "40", "--kernel-us", "500"]),
        ("concurrent", 2, ["--devices", "2"]),
        ("timeslice", 1, ["--expect-error"]),
    ]
    for mode, devices, args in variants:
        if args is None:
            continue
        name = " ".join(args) or "(default)"
        with Sim(env, mode, devices) as sim:
            cmd = wl("correctness", *args)
            rc0, out0, err0 = run(cmd, env)
            base = json_line(out0)
            check(rc0 == 0 and base and base.get("ok"), f"{name}: native run ok: {out0.strip()}")
            # The stream-priority actuator (on by default below normal priority) changes
            # the priorities the workload reads back on purpose: the exact runs keep it
            # off; the last run has it on and must compute the same results, its only
            # mismatches being those read-backs (one stderr line each).
            for label, settings in (("open window", {}),
                                    ("window 1", {"window": 1, "priority": "low",
                                                  "stream_priority": "off"}),
                                    ("window 1, stream priorities", {
                                        "window": 1, "priority": "low",
                                        "stream_priority": "on"})):
                sim.reset()
                rc, out, err = run(cmd, shimmed(env, **settings))
                got = json_line(out)
                actuated = settings.get("stream_priority") == "on"
                if actuated and got and base and "digest" in base:
                    readbacks = sum("stream priority" in ln for ln in err.splitlines())
                    # The workload exits non-zero on any mismatch, read-backs included.
                    check((rc == rc0 if not readbacks else rc == 1) and
                          got["digest"] == base["digest"] and
                          got["expected"] == base["expected"] and
                          got["mismatches"] == base["mismatches"] + readbacks,
                          f"{name}, shim {label}: same results, {readbacks} priority "
                          f"read-backs differ ({out.strip()})")
                else:
                    check(rc == rc0 and got == base,
                          f"{name}, shim {label}: same output ({out.strip()})")
                d = dump(env)
                launches = sum(g["launches"] for p in d["procs"] for g in p["gpus"])
                if "--expect-error" not in args:
                    check(launches > 0, f"{name}, shim {label}: the shim saw {launches} "
                          "commands (it intercepted, not passed through)")
                if settings:
                    most = max((r["max_inflight"] for r in sim.stats()), default=0)
                    check(most <= 1, f"{name}, shim {label}: ground truth max in flight "
                          f"{most} <= 1")
                check("passing all calls through" not in err,
                      f"{name}, shim {label}: no pass-through warning")


def scenario_window(env, check):
    batch = wl("batch", "--sync", "none", "--streams", "3", "--threads", "2",
               "--kernel-us", "300", "--duration", "1")
    with Sim(env, "concurrent") as sim:
        rc, out, err = run(batch, shimmed(env, window=2, priority="low"))
        res = json_line(out)
        check(rc == 0 and res and res["launches"] == res["kernels"], f"static window 2: {out}")
        rows = sim.stats()
        most = max(r["max_inflight"] for r in rows)
        check(most == 2, f"static window 2: ground truth max in flight {most} == 2")
        check(all(r["submitted"] == r["completed"] for r in rows), "every command completed")
    # A controller grants 4 over the process's own window 1: the grant applies, and bounds.
    with Sim(env, "concurrent") as sim:
        ctl = subprocess.Popen([bin_path("xsched-testctl"), "--stdin"], env=env,
                               stdin=subprocess.PIPE, text=True)
        time.sleep(0.2)
        p = subprocess.Popen(batch[:-1] + ["3"], env=shimmed(env, window=1, priority="low"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ctl.stdin.write(f"wait {p.pid}\nset {p.pid} busy=4 idle=4\n")
        ctl.stdin.flush()
        out, err = p.communicate(timeout=60)
        ctl.stdin.write("quit\n")
        ctl.stdin.close()
        ctl.wait(timeout=10)
        most = max(r["max_inflight"] for r in sim.stats(p.pid))
        check(p.returncode == 0, f"granted window 4: {out.strip()}")
        check(1 < most <= 4, f"granted window 4 over default 1: ground truth max in flight "
              f"{most} in (1, 4]")


def scenario_suspend(env, check):
    with Sim(env, "fifo") as sim:
        ctl = subprocess.Popen([bin_path("xsched-testctl"), "--stdin"], env=env,
                               stdin=subprocess.PIPE, text=True)
        time.sleep(0.2)
        p = subprocess.Popen(wl("batch", "--duration", "0", "--kernel-us", "1000",
                                "--kernels-per-iter", "4"), env=shimmed(env, priority="low"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def cmd(line):
            ctl.stdin.write(line + "\n")
            ctl.stdin.flush()

        try:
            cmd(f"wait {p.pid}")
            time.sleep(0.5)
            running = sim.progress(p.pid)[0]
            check(running > 0, f"running: {running} commands submitted")
            cmd(f"suspend {p.pid}")
            time.sleep(0.3)  # what was in flight drains
            a = sim.progress(p.pid)
            time.sleep(1.0)
            b = sim.progress(p.pid)
            check(a == b and a[0] == a[1],
                  f"suspended: no progress in 1 s (submitted/completed {a} -> {b})")
            d = proc_of(dump(env), p.pid)
            check(d and d["gpus"][0]["window"] == 0, "the shim reports window 0")
            cmd(f"resume {p.pid}")
            time.sleep(0.5)
            c = sim.progress(p.pid)
            check(c[0] > b[0], f"resumed: {c[0] - b[0]} commands in 0.5 s")
            cmd(f"suspend {p.pid}")
            time.sleep(0.3)
            a = sim.progress(p.pid)
            time.sleep(0.5)
            check(sim.progress(p.pid) == a, "suspended again")
            cmd("die")  # exits without cleaning up: the heartbeat goes stale
            ctl.wait(timeout=10)
            t0 = time.monotonic()
            released = None
            while time.monotonic() - t0 < 5:
                if sim.progress(p.pid)[0] > a[0]:
                    released = time.monotonic() - t0
                    break
                time.sleep(0.05)
            # Stale after 0.5 s, rechecked every 0.2 s: released within about 0.7 s; the
            # bound leaves room for a loaded machine.
            check(released is not None and released < 1.5,
                  f"controller died: released after {released} s (stale after 0.5 s, "
                  "rechecked every 0.2 s)")
        finally:
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=30)
            if ctl.poll() is None:
                ctl.kill()
        res = json_line(out)
        check(p.returncode == 0 and res and res["launches"] == res["kernels"],
              f"batch finished normally: {out.strip()}")


def scenario_latency(env, check):
    with Sim(env, "fifo"):
        log = f"/tmp/xs-latency-{os.getpid()}.log"
        try:
            rc, out, err = run(wl("online", "--rate", "50", "--duration", "3",
                                  "--kernels", "4", "--kernel-us", "250", "--latency-log", log),
                               shimmed(env, priority="high"))
            res = json_line(out)
            check(rc == 0 and res, out.strip())
            with open(log) as f:
                wlat = [float(l.split()[2]) for l in f if l.strip() and not l.startswith("#")]
        finally:
            if os.path.exists(log):
                os.unlink(log)
        d = dump(env)
        procs = [p for p in d["procs"] if p["comm"] == "online"]
        check(len(procs) == 1, "one online process registered")
        cold = [i for i, l in enumerate(procs[0]["latencies"]) if l[4]]
        check(len(cold) == 1 and cold[0] < 10, f"one cold burst, the first to launch the kernel "
              f"(a warm-up request): bursts {cold[:5]}")
        lat = [l[1] / 1e6 for l in procs[0]["latencies"]]
        check(len(lat) >= len(wlat), f"the ring holds {len(lat)} bursts for {len(wlat)} requests "
              "(plus warm-up)")
        lat = lat[-len(wlat):]  # the measured requests are the last bursts
        for p in (50, 99):
            a, b = pct(lat, p), pct(wlat, p)
            check(abs(a - b) <= 0.05 * b,
                  f"P{p}: shim {a:.4f} ms vs workload {b:.4f} ms ({100 * (a - b) / b:+.2f}%)")


def online_p99(env, shim=False):
    e = shimmed(env, priority="high") if shim else env
    rc, out, err = run(wl("online", "--rate", "50", "--duration", "4", "--kernels", "4",
                          "--kernel-us", "250"), e)
    res = json_line(out)
    if rc != 0 or not res:
        raise RuntimeError(f"online failed: {out} {err}")
    return res["p99_ms"], res["p50_ms"]


def with_batch(env, shim):
    cmd = wl("batch", "--duration", "0", "--kernel-us", "200", "--kernels-per-iter", "100")
    e = shimmed(env, priority="low", window=1) if shim else env
    b = subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    try:
        return online_p99(env, shim)
    finally:
        b.send_signal(signal.SIGINT)
        out, _ = b.communicate(timeout=30)
        print("  batch: " + out.strip())


def scenario_fifo(env, check):
    with Sim(env, "fifo") as sim:
        # A solo baseline taken while the machine is busy is inflated: one more attempt with
        # a fresh baseline is allowed here too; both are printed.
        for attempt in (1, 2):
            sim.reset()
            solo, solo50 = online_p99(env)
            print(f"online alone:                     P99 {solo:.3f} ms (P50 {solo50:.3f})")
            sim.reset()
            native, native50 = with_batch(env, shim=False)
            print(f"online + batch, no shim:          P99 {native:.3f} ms (P50 {native50:.3f}) "
                  f"= {native / solo:.1f}x solo (attempt {attempt})")
            if native > 5 * solo:
                break
        check(native > 5 * solo, f"without the shim online P99 is over 5x solo "
              f"({native / solo:.1f}x)")
        # Timing on a loaded machine is noisy: a second attempt (with a fresh solo baseline)
        # is allowed; both are printed.
        for attempt in (1, 2):
            sim.reset()
            shim, shim50 = with_batch(env, shim=True)
            print(f"online high + batch low window 1: P99 {shim:.3f} ms (P50 {shim50:.3f}) "
                  f"= {shim / solo:.2f}x solo (attempt {attempt})")
            if shim <= 1.5 * solo or attempt == 2:
                break
            sim.reset()
            solo, solo50 = online_p99(env)
            print(f"online alone (again):             P99 {solo:.3f} ms (P50 {solo50:.3f})")
        check(shim <= 1.5 * solo, f"with the shim online P99 within 1.5x solo "
              f"({shim / solo:.2f}x)")


def scenario_passthrough(env, check):
    with Sim(env, "concurrent") as sim:
        cmd = wl("correctness")
        rc0, out0, _ = run(cmd, env)
        base = json_line(out0)
        # Not an xsched segment under our name.
        with open(shm_path(env), "wb") as f:
            f.write(b"\x00" * 4096)
        os.chmod(shm_path(env), 0o600)
        rc, out, err = run(cmd, shimmed(env, window=1))
        lines = [l for l in err.splitlines() if l.startswith("xsched:")]
        check(rc == 0 and json_line(out) == base, "bad segment: same output")
        check(len(lines) == 1 and "passing all calls through" in lines[0],
              f"bad segment: one warning: {lines}")
        most = max(r["max_inflight"] for r in sim.stats())
        check(most > 1, f"bad segment: nothing gated (max in flight {most})")
        os.unlink(shm_path(env))
        sim.reset()
        rc, out, err = run(cmd, shimmed(env, priority="urgent"))
        check(rc == 0 and json_line(out) == base, "bad XSCHED_PRIORITY: same output")
        check("XSCHED_PRIORITY 'urgent'" in err and "passing all calls through" in err,
              f"bad XSCHED_PRIORITY: said so: {err.strip()}")
        rc, out, err = run(cmd, shimmed(env, window=2, log="quiet"))
        check(rc == 0 and err == "", f"XSCHED_LOG=quiet: nothing on stderr ({err!r})")


def scenario_run(env, check):
    with Sim(env, "fifo"):
        xr = bin_path("xsched-run")
        for args, what in ((["--priority", "urgent"], "'urgent'"), (["--window", "0"], "'0'"),
                           (["--window", "-3"], "'-3'"), (["--log", "loud"], "'loud'"),
                           (["--shm", "a/b"], "'a/b'")):
            rc, out, err = run([xr] + args + ["--", "true"], env)
            check(rc == 2 and err.count("\n") == 1 and what in err and "accepted" in err,
                  f"xsched-run {' '.join(args)}: exit {rc}: {err.strip()}")
        rc, out, err = run([xr, "--bogus", "true"], env)
        check(rc == 2, f"unknown option: exit {rc}")
        rc, out, err = run([xr], env)
        check(rc == 2, f"no command: exit {rc}")
        rc, out, err = run([xr, "--priority", "low", "--window", "3", "--", "env"], env)
        vars_ = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
        check(vars_.get("XSCHED_PRIORITY") == "low" and vars_.get("XSCHED_WINDOW") == "3" and
              vars_.get("LD_PRELOAD", "").startswith(os.path.realpath(lib_path())),
              "settings and LD_PRELOAD reach the program")
        e = dict(env, LD_PRELOAD="/nonexistent-other.so")
        rc, out, err = run([xr, "--", "env"], e)
        pre = [l for l in out.splitlines() if l.startswith("LD_PRELOAD=")]
        check(pre and pre[0].endswith(":/nonexistent-other.so"), f"LD_PRELOAD kept: {pre}")
        # Stream priorities off: the workload checks it reads back the priorities it set
        # (the actuator and the workload's results with it: shim_actu_*, correctness).
        rc, out, err = run([xr, "--priority", "low", "--window", "1", "--stream-priority",
                            "off", "--"] + wl("correctness", "--threads", "2"), env)
        check(rc == 0, f"correctness under xsched-run: {out.strip()}")
        check("priority low window 1 (static, no controller)" in err,
              f"the start line names the mode: {err.strip()}")


def scenario_exec(env, check):
    with Sim(env, "fifo"):
        rc, out, err = run([bin_path("xs_exec_probe")], shimmed(env))
        check(rc == 0, f"exec_probe: {out.strip()} {err.strip()}")
        pid = int(out.split("pid ")[1].split()[0]) if "pid " in out else -1
        d = dump(env)
        mine = [p for p in d["procs"] if p["pid"] == pid]
        check(len(mine) == 1 and mine[0]["image"] == 1,
              f"one slot across exec, taken over once: {[(p['pid'], p['image']) for p in mine]}")
        starts = err.count("priority normal window unlimited")
        check(starts == 2, f"each image said how it runs ({starts} start lines)")
    for preload in (False, True):
        rc, out, err = run([bin_path("xs_rtld_next_test")], shimmed(env) if preload else env)
        check(rc == 0, f"RTLD_NEXT {'with' if preload else 'without'} the shim: {out.strip()}")


def coverage_cuda(env, check):
    names = subprocess.run(["nm", "-D", "--defined-only", lib_path()], capture_output=True,
                           text=True, check=True).stdout.split()
    names = [n for n in names if n.startswith("cu")]
    check(len(names) > 100, f"the shim exports {len(names)} CUDA entry points")
    with Sim(env, "fifo"):
        for version in ("12000", "13000"):
            r = subprocess.run([bin_path("xsched-cuda-probe"), version], input="\n".join(names),
                               env=shimmed(env), capture_output=True, text=True)
            rows = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
            summary = rows[-1] if rows and rows[-1].get("summary") else {}
            missed = [x["name"] for x in rows if "MISSED" in (x.get("dlsym"), x.get("getproc"))]
            check(r.returncode == 0 and summary.get("missed") == 0 and not missed,
                  f"CUDA {version}: {summary.get('getproc_hooked')} of {len(names)} hooked "
                  f"through cuGetProcAddress_v2, missed: {missed}")
            launch = [x for x in rows if x.get("name") == "cuLaunchKernel"]
            check(launch and launch[0]["getproc"] == "hook" and launch[0]["dlsym"] == "hook",
                  f"CUDA {version}: cuLaunchKernel hooked both ways")



# Run under the shim: the runtime is dlopened (RTLD_LOCAL) and each name looked up on its
# handle, as the workloads and ctypes users do; the answer must be the shim's own export.
HIP_PROBE = r"""
import ctypes, sys
rt = ctypes.CDLL(sys.argv[1])
shim = ctypes.CDLL(sys.argv[2])
for name in sys.stdin.read().split():
    try:
        got = ctypes.cast(getattr(rt, name), ctypes.c_void_p).value
    except AttributeError:
        print(name, "absent")
        continue
    hook = ctypes.cast(getattr(shim, name), ctypes.c_void_p).value
    print(name, "hook" if got == hook else "MISSED")
"""


def coverage_hip(env, check):
    def exports(path):
        r = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True,
                           text=True, check=True)
        return {n for n in r.stdout.split() if n.startswith("hip")}

    ours = exports(lib_path())
    rt_path = os.path.join(BUILD, "sim", "lib", SIM_LIBS["hip"])
    runtime = exports(rt_path)
    check(len(ours) > 80, f"the shim exports {len(ours)} HIP entry points")
    with Sim(env, "fifo"):
        r = subprocess.run([sys.executable, "-c", HIP_PROBE, SIM_LIBS["hip"], lib_path()],
                           input="\n".join(sorted(ours)), env=shimmed(env),
                           capture_output=True, text=True)
        rows = dict(l.split() for l in r.stdout.splitlines() if len(l.split()) == 2)
        check(r.returncode == 0 and len(rows) == len(ours), f"probe ran: {r.stderr.strip()}")
        served = sorted(ours & runtime)
        missed = [n for n in served if rows.get(n) != "hook"]
        check(served and not missed, f"{len(served) - len(missed)} of the {len(served)} "
              f"names the runtime serves come back hooked through dlsym; missed: {missed}")
        leaked = [n for n in sorted(ours - runtime) if rows.get(n) != "absent"]
        check(not leaked, f"names the runtime lacks stay absent on its handle: {leaked}")
        for n in ("hipLaunchKernel", "hipModuleLaunchKernel", "hipStreamSynchronize"):
            check(rows.get(n) == "hook", f"{n} hooked")


def scenario_coverage(env, check):
    (coverage_hip if VENDOR == "hip" else coverage_cuda)(env, check)


def scenario_visible(env, check):
    # (variable, list, ordinal the process uses, physical GPU that ordinal is)
    runs = [("HIP_VISIBLE_DEVICES", "1", 0, 1), ("HIP_VISIBLE_DEVICES", "0,1", 1, 1),
            ("ROCR_VISIBLE_DEVICES", "1,0", 0, 1), ("HIP_VISIBLE_DEVICES", "1,0", 1, 0)]
    with Sim(env, "concurrent", devices=2) as sim:
        phys = {}
        for var, lst, ordinal, gpu in runs:
            e = shimmed(env, priority="low", window=2)
            e[var] = lst
            p = subprocess.Popen(wl("batch", "--device", ordinal, "--iters", "3",
                                    "--kernel-us", "200", "--kernels-per-iter", "4"),
                                 env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            out, err = p.communicate(timeout=60)
            check(p.returncode == 0, f"{var}={lst} --device {ordinal}: {out.strip()}")
            phys[p.pid] = (gpu, f"{var}={lst} ordinal {ordinal}")
        truth = {}
        for r in sim.stats():
            truth.setdefault(r["pid"], set()).add(r["dev"])
        for pid, (gpu, what) in phys.items():
            check(truth.get(pid) == {gpu}, f"{what}: work ran on simulated GPU "
                  f"{truth.get(pid)} (expected {gpu})")
        d = dump(env)
        records = {}
        for pid, (gpu, what) in phys.items():
            p = proc_of(d, pid)
            used = sorted(g["gpu"] for g in p["gpus"]) if p else []
            check(len(used) == 1, f"{what}: one GPU record used ({used})")
            if used:
                records.setdefault(gpu, set()).add(used[0])
        check(len(records.get(1, ())) == 1,
              f"the three processes on physical GPU 1 share one record: {records.get(1)}")
        check(len(records.get(0, ())) == 1 and not records.get(0) & records.get(1, set()),
              f"physical GPU 0 has a record of its own: {records}")
        check(len(d["gpus"]) == 2, f"two GPU records in the table ({len(d['gpus'])})")


# One process, both runtimes: commands on the null stream of each, CUDA first or HIP first.
BOTH_PROBE = r"""
import ctypes, json, sys
cu, hip = ctypes.CDLL("libcuda.so.1"), ctypes.CDLL("libamdhip64.so.5")
n, rcs = 1 << 20, []

def with_cuda():
    d, ctx, p = ctypes.c_int(), ctypes.c_void_p(), ctypes.c_uint64()
    rcs.extend([cu.cuInit(0), cu.cuDeviceGet(ctypes.byref(d), 0),
                cu.cuDevicePrimaryCtxRetain(ctypes.byref(ctx), d), cu.cuCtxSetCurrent(ctx),
                cu.cuMemAlloc_v2(ctypes.byref(p), ctypes.c_size_t(n))])
    for _ in range(8):
        rcs.append(cu.cuMemsetD8Async(p, ctypes.c_ubyte(1), ctypes.c_size_t(n), None))
    rcs.append(cu.cuStreamSynchronize(None))

def with_hip():
    q = ctypes.c_void_p()
    rcs.extend([hip.hipSetDevice(0), hip.hipMalloc(ctypes.byref(q), ctypes.c_size_t(n))])
    for _ in range(8):
        rcs.append(hip.hipMemsetAsync(q, 1, ctypes.c_size_t(n), None))
    rcs.append(hip.hipStreamSynchronize(None))

for step in sys.argv[1:]:
    (with_cuda if step == "cuda" else with_hip)()
print(json.dumps({"rcs": rcs}))
"""


def scenario_both(env, check):
    hip_rt = os.path.join(BUILD, "sim", "lib", SIM_LIBS["hip"])
    if not os.path.exists(hip_rt):
        print("skipped: not built: " + hip_rt)
        return
    for order in (["cuda", "hip"], ["hip", "cuda"]):
        what = " then ".join(order)
        with Sim(env, "concurrent") as sim:
            p = subprocess.Popen([sys.executable, "-c", BOTH_PROBE] + order,
                                 env=shimmed(env, priority="low", window=1),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            out, err = p.communicate(timeout=60)
            res = json_line(out) or {}
            check(p.returncode == 0 and res.get("rcs") and not any(res["rcs"]),
                  f"{what}: every call succeeded ({out.strip()} {err.strip()})")
            lines = [l for l in err.splitlines() if l.startswith("xsched:")]
            check(len(lines) == 1 and "priority low window 1" in lines[0],
                  f"{what}: one start line, nothing else: {lines}")
            procs = [q for q in dump(env)["procs"] if q["pid"] == p.pid]
            launches = sum(g["launches"] for q in procs for g in q["gpus"])
            check(len(procs) == 1 and launches == 16,
                  f"{what}: one slot, the 16 commands of both runtimes seen ({launches})")
            most = max((r["max_inflight"] for r in sim.stats()), default=0)
            check(most <= 1, f"{what}: ground truth max in flight {most} <= 1")


def scenario_neither(env, check):
    plain = [bin_path("xs_plain_probe")]
    py = [sys.executable, "-c", "pass"]
    pyio = [sys.executable, "-c", "import ctypes, json, sys; print(json.dumps(sys.argv)); "
            "sys.stderr.write('to stderr\\n'); sys.exit(5)", "a b"]
    for cmd, what in ((plain, "plain C program"), (py, "python3 -c pass"),
                      (pyio, "python3 with ctypes, output and exit 5")):
        base = run(cmd, env)
        for label, settings in (("shim", {}), ("shim, XSCHED_LOG=quiet", {"log": "quiet"}),
                                ("shim, low window 1", {"priority": "low", "window": 1}),
                                ("shim, bad XSCHED_PRIORITY", {"priority": "urgent"})):
            got = run(cmd, shimmed(env, **settings))
            check(got == base, f"{what}, {label}: exit {got[0]}, stdout and stderr identical "
                  f"({got[1].strip()!r} {got[2].strip()!r} vs {base[1].strip()!r} "
                  f"{base[2].strip()!r})")
    check(not os.path.exists(shm_path(env)), "no shared segment was created")


SCENARIOS = {n[len("scenario_"):]: f for n, f in globals().items() if n.startswith("scenario_")}
# Scenarios that apply to some vendors only (the others run over any).
ONLY = {"exec": ("cuda",), "visible": ("hip",), "both": ("cuda",)}


def main():
    global BUILD, VENDOR
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--vendor", choices=sorted(SIM_LIBS), default="cuda")
    ap.add_argument("scenario", choices=sorted(SCENARIOS))
    a = ap.parse_args()
    BUILD, VENDOR = a.build, a.vendor
    if VENDOR not in ONLY.get(a.scenario, (VENDOR,)):
        print(f"skipped: {a.scenario} does not apply to {VENDOR}")
        return SKIP
    needs = [lib_path(), bin_path("xsched-testctl"), bin_path("simgpu"), bin_path("online"),
             bin_path("batch"), bin_path("correctness"),
             os.path.join(BUILD, "sim", "lib", SIM_LIBS[VENDOR])]
    if VENDOR == "cuda":
        needs.append(bin_path("xsched-cuda-probe"))
    if a.scenario == "neither":
        needs = [lib_path(), bin_path("xs_plain_probe")]
    missing = [n for n in needs if not os.path.exists(n)]
    if missing:
        print("skipped: not built: " + ", ".join(missing))
        return SKIP
    env = base_env()
    check = Checks()
    SCENARIOS[a.scenario](env, check)
    print("PASS" if check.ok else "FAIL")
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
