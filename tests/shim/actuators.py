#!/usr/bin/env python3
"""Priority actuators through xsched-run, libxsched.so and the simulated runtimes.

usage: actuators.py --build DIR SCENARIO

Scenarios:
  mps            xsched-run's MPS client priority: with a fake server (a `control` pipe in
                 $CUDA_MPS_PIPE_DIRECTORY) a low-priority app gets CUDA_MPS_CLIENT_PRIORITY=1
                 and one stderr line says so; high and normal stay normal; no server, or
                 --mps-priority off: nothing; --mps-priority on: set without a server; the
                 user's own CUDA_MPS_CLIENT_PRIORITY is kept (and said); the shim of such a
                 process reports the MPS actuator in its slot
  stream_cuda    streams created through cuStreamCreate[WithPriority] (exported, dlsym,
                 cuGetProcAddress_v2) get priorities in the band of their xsched priority,
                 in the app's order; none at normal priority or with the actuator off;
                 xsched-ctl status (text and --json) names the actuators in effect
  stream_hip     the same through hipStreamCreate* (range [-1, 1])
  cumask_hip     XSCHED_CU_MASK (fraction or hex) restricts the new streams of a
                 low-priority HIP process; not a high-priority one's

Each run uses its own simulated device and protocol segment (names from the environment,
set per test by CMake) and removes them. Exit 0 passed, 1 failed, 77 a piece is not built.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77
BUILD = None
failures = []


def path(*parts):
    return os.path.join(BUILD, *parts)


def cleanup():
    for name in (os.environ.get("XSCHED_SHM"), os.environ.get("XSCHED_SIM_NAME")):
        if not name:
            continue
        for f in os.listdir("/dev/shm"):
            if f == name or f.startswith(name + "."):
                try:
                    os.remove(os.path.join("/dev/shm", f))
                except OSError:
                    pass


def run(args, env_extra=None, drop=()):
    env = dict(os.environ)
    for k in ("CUDA_MPS_CLIENT_PRIORITY", "CUDA_MPS_PIPE_DIRECTORY", "XSCHED_PRIORITY",
              "XSCHED_STREAM_PRIORITY", "XSCHED_CU_MASK", "XSCHED_LOG") + tuple(drop):
        env.pop(k, None)
    env.update(env_extra or {})
    p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def xrun(*opts):
    return [path("bin", "xsched-run")] + list(opts) + ["--"]


# ---- mps ----

def child_mps(opts, env):
    """CUDA_MPS_CLIENT_PRIORITY as the child sees it, and xsched-run's stderr."""
    rc, out, err = run(xrun(*opts) + [sys.executable, "-c",
                       "import os; print(os.environ.get('CUDA_MPS_CLIENT_PRIORITY', '-'))"],
                       env)
    return rc, out.strip(), err.strip()


def scenario_mps():
    with tempfile.TemporaryDirectory() as server, tempfile.TemporaryDirectory() as empty, \
            tempfile.TemporaryDirectory() as dirserver:
        os.mkfifo(os.path.join(server, "control"), 0o600)
        os.mkdir(os.path.join(dirserver, "control"))
        srv = {"CUDA_MPS_PIPE_DIRECTORY": server}
        rc, got, err = child_mps(["--priority", "low"], srv)
        check(rc == 0 and got == "1", f"low + MPS server: child has CUDA_MPS_CLIENT_PRIORITY=1 "
              f"(got {got!r})")
        check(len(err.splitlines()) == 1 and "CUDA_MPS_CLIENT_PRIORITY=1" in err and
              server in err, f"low + MPS server: one stderr line naming it ({err!r})")
        rc, got, err = child_mps(["--priority", "7"], srv)
        check(got == "1", f"level 7 + MPS server: below normal too (got {got!r})")
        for prio in ("high", "normal", "0", "1"):
            rc, got, err = child_mps(["--priority", prio], srv)
            check(rc == 0 and got == "-" and err == "",
                  f"{prio} + MPS server: stays a normal client, silent ({got!r}, {err!r})")
        rc, got, err = child_mps(["--priority", "low"], {"CUDA_MPS_PIPE_DIRECTORY": empty})
        check(got == "-" and err == "", f"low, no server: unset, silent ({got!r}, {err!r})")
        rc, got, err = child_mps(["--priority", "low"], {"CUDA_MPS_PIPE_DIRECTORY": dirserver})
        check(got == "-", f"low, 'control' is a directory: no server ({got!r})")
        rc, got, err = child_mps(["--priority", "low"],
                                 {"XSCHED_PRIORITY": "high", **srv})
        check(got == "1", f"--priority wins over XSCHED_PRIORITY ({got!r})")
        rc, got, err = child_mps([], {"XSCHED_PRIORITY": "low", **srv})
        check(got == "1", f"XSCHED_PRIORITY=low without --priority ({got!r})")
        rc, got, err = child_mps(["--priority", "low", "--mps-priority", "off"], srv)
        check(got == "-" and err == "", f"--mps-priority off: unset ({got!r}, {err!r})")
        rc, got, err = child_mps(["--priority", "low", "--mps-priority", "on"],
                                 {"CUDA_MPS_PIPE_DIRECTORY": empty})
        check(got == "1" and "no MPS server" in err,
              f"--mps-priority on without a server: set, said ({got!r}, {err!r})")
        rc, got, err = child_mps(["--priority", "low", "--log", "quiet"], srv)
        check(got == "1" and err == "", f"--log quiet: set, silent ({got!r}, {err!r})")
        for user in ("0", "2"):
            for prio in ("low", "high"):
                rc, got, err = child_mps(["--priority", prio],
                                         {"CUDA_MPS_CLIENT_PRIORITY": user, **srv})
                check(got == user and "keeping CUDA_MPS_CLIENT_PRIORITY=" + user in err,
                      f"{prio}, user set {user}: kept and said ({got!r}, {err!r})")
        rc, _, err = run(xrun("--mps-priority", "sometimes") + ["true"])
        check(rc == 2 and "sometimes" in err and "auto, on, off" in err,
              f"bad --mps-priority: exit 2, one line ({rc}, {err!r})")
        # The shim of an MPS client at below-normal priority reports the actuator.
        probe = path("bin", "xs_prio_probe_cuda")
        rc, out, err = run(xrun("--priority", "low", "--stream-priority", "off") +
                           [probe, "--band", "none", "--mps"], srv)
        check(rc == 0, f"the slot of a low MPS client reports MPS priority\n{out}{err}")
        rc, out, err = run(xrun("--priority", "low", "--stream-priority", "off") +
                           [probe, "--band", "none"], {"CUDA_MPS_PIPE_DIRECTORY": empty})
        check(rc == 0, f"without a server the slot reports no MPS priority, and the device "
              f"time-sliced\n{out}{err}")


# ---- stream priorities ----

def probe(vendor, opts, band, env=None, extra=(), env_after=None):
    """The probe under xsched-run; env_after: set in the app's environment only (after
    xsched-run, which would otherwise act on it)."""
    cleanup()
    if env_after:
        return run(xrun(*opts) + ["env"] + [f"{k}={v}" for k, v in env_after.items()] +
                   [path("bin", "xs_prio_probe_" + vendor), "--band"] +
                   [str(b) for b in band] + list(extra), env)
    rc, out, err = run(xrun(*opts) + [path("bin", "xs_prio_probe_" + vendor), "--band"] +
                       [str(b) for b in band] + list(extra), env)
    return rc, out, err


def scenario_stream(vendor, srv):
    # Simulated ranges: CUDA [-5, 0], HIP [-1, 1]; bands are thirds, most urgent first.
    bands = {"cuda": {"high": (-5, -4), "normal": (-3, -2), "low": (-1, 0)},
             "hip": {"high": (-1, -1), "normal": (0, 0), "low": (1, 1)}}[vendor]
    cases = [
        (["--priority", "high"], bands["high"], None),
        (["--priority", "low"], bands["low"], None),
        (["--priority", "5"], bands["low"], None),
        (["--priority", "normal"], ("none",), None),
        (["--priority", "normal", "--stream-priority", "on"], bands["normal"], None),
        (["--priority", "high", "--stream-priority", "off"], ("none",), None),
        (["--priority", "low", "--stream-priority", "auto"], bands["low"], None),
        (["--priority", "high"], ("none",), {"XSCHED_STREAM_PRIORITY": "off"}),
        (["--priority", "low"], bands["low"], {"XSCHED_STREAM_PRIORITY": "on"}),
    ]
    for opts, band, env in cases:
        rc, out, err = probe(vendor, opts, band, env)
        check(rc == 0, f"{vendor} {' '.join(opts)} {env or ''}: band {band}\n{out}{err}")
    if vendor == "cuda":
        # xsched-ctl status (from the protocol, no controller) shows the probe's actuators.
        rc, out, err = probe(vendor, ["--priority", "high"], bands["high"], None, ["--mps"],
                             {"CUDA_MPS_CLIENT_PRIORITY": "1", "CUDA_MPS_PIPE_DIRECTORY": srv})
        check(rc == 0, f"high MPS client with stream priorities\n{out}{err}")
        rc, js, err = run([path("bin", "xsched-ctl"), "status", "--json"])
        procs = json.loads(js)["processes"] if rc == 0 else []
        acts = [p.get("actuators") for p in procs]
        check(acts == [["mps_priority", "stream_priority"]],
              f"status --json: the process's actuators ({acts}, {err!r})")
        rc, text, err = run([path("bin", "xsched-ctl"), "status"])
        check(rc == 0 and "ACTUATORS" in text and "mps_priority,stream_priority" in text,
              f"status: an ACTUATORS column naming them\n{text}{err}")
    # A bad setting turns the actuator off and says so once.
    rc, out, err = probe(vendor, ["--priority", "high"], ("none",),
                         {"XSCHED_STREAM_PRIORITY": "sometimes"})
    bad = [ln for ln in err.splitlines() if "sometimes" in ln]
    check(rc == 0 and len(bad) == 1 and "auto, on, off" in bad[0],
          f"{vendor} bad XSCHED_STREAM_PRIORITY: off, one line\n{out}{err}")
    rc, _, err = run(xrun("--stream-priority", "maybe") + ["true"])
    check(rc == 2 and "maybe" in err, f"bad --stream-priority: exit 2 ({rc}, {err!r})")


def scenario_cumask():
    # 104 simulated CUs; the probe's WithPriority streams are non-blocking (never masked).
    quarter = ["--cu-words", "4", "0x03ffffff", "0", "0", "0"]
    rc, out, err = probe("hip", ["--priority", "low", "--cu-mask", "0.25"], (1, 1), None, quarter)
    check(rc == 0, f"low, --cu-mask 0.25: 26 of 104 CUs\n{out}{err}")
    rc, out, err = probe("hip", ["--priority", "low", "--stream-priority", "off"], ("none",),
                         {"XSCHED_CU_MASK": "0xff00ff"}, ["--cu-words", "2", "0x00ff00ff", "0"])
    check(rc == 0, f"low, XSCHED_CU_MASK=0xff00ff, stream priorities off\n{out}{err}")
    rc, out, err = probe("hip", ["--priority", "high", "--cu-mask", "0.25"], (-1, -1))
    check(rc == 0, f"high, --cu-mask: streams unrestricted\n{out}{err}")
    rc, out, err = probe("hip", ["--priority", "low"], (1, 1), {"XSCHED_CU_MASK": "0x0"})
    bad = [ln for ln in err.splitlines() if "0x0" in ln]
    check(rc == 0 and len(bad) == 1 and "XSCHED_CU_MASK" in bad[0],
          f"bad XSCHED_CU_MASK: off, one line\n{out}{err}")
    for v in ("1.5", "0", "0x", "0xzz", "-0.5", "quarter"):
        rc, _, err = run(xrun("--cu-mask", v) + ["true"])
        check(rc == 2 and v in err, f"bad --cu-mask {v!r}: exit 2 ({rc}, {err!r})")


def main():
    global BUILD
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("scenario", choices=["mps", "stream_cuda", "stream_hip", "cumask_hip"])
    a = ap.parse_args()
    BUILD = os.path.abspath(a.build)
    vendor = "hip" if a.scenario.endswith("hip") else "cuda"
    need = [path("bin", "xsched-run"), path("lib", "libxsched.so"),
            path("bin", "xs_prio_probe_" + vendor)]
    missing = [n for n in need if not os.path.exists(n)]
    if missing:
        print("skipped: not built: " + ", ".join(missing))
        return SKIP
    try:
        if a.scenario == "mps":
            scenario_mps()
        elif a.scenario == "cumask_hip":
            scenario_cumask()
        else:
            with tempfile.TemporaryDirectory() as srv:
                os.mkfifo(os.path.join(srv, "control"), 0o600)
                scenario_stream(vendor, srv)
    finally:
        cleanup()
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
