#!/usr/bin/env python3
"""Runs one test workload on a fresh simulated GPU and checks what it printed.

usage: wl_check.py --build DIR [--mode fifo|timeslice|concurrent] [--devices N]
                   [--env NAME=VALUE]... [--exit CODE] [--stderr REGEX]
                   [--check EXPR]... [--stats-check EXPR]... -- PROGRAM [ARGS...]

The simulated device is /dev/shm/$XSCHED_SIM_NAME (the test sets a unique name); it is
created with `simgpu create` before the run and removed after it. PROGRAM runs from
DIR/bin with the environment of the test (LD_LIBRARY_PATH names the simulated libraries).

--check EXPR        a Python expression over the fields of the workload's JSON line, e.g.
                    "launches == (requests + 5) * 4"; lines(PATH) counts a file's lines
--stats-check EXPR  an expression over the device model's ground truth for the workload
                    (and any child it forked): `dev` maps a device index to its totals (submitted,
                    completed, max_inflight, busy_us), `total` sums them over devices
--exit CODE         the exit status expected (default 0); JSON checks need 0
--stderr REGEX      stderr must match (re.search)
"""
import argparse
import json
import os
import re
import subprocess
import sys


def simgpu(build, env, *args):
    return subprocess.run([os.path.join(build, "bin", "simgpu"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def lines(path):
    with open(path) as f:
        return sum(1 for _ in f)


def ground_truth(build, env):
    """Totals over every process of the segment: it is fresh, so those are the workload and
    any child it forked (the model keeps exited processes' rows)."""
    r = simgpu(build, env, "stats", "--json")
    if r.returncode != 0:
        raise RuntimeError(f"simgpu stats failed: {r.stderr.strip()}")
    rows = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    fields = ("submitted", "completed", "max_inflight", "busy_us")
    dev, total = {}, dict.fromkeys(fields, 0)
    for row in rows:
        d = dev.setdefault(row["dev"], dict.fromkeys(fields, 0))
        for f in fields:
            d[f] += row[f]
            total[f] += row[f]
    return dev, total


def check(expr, scope):
    try:
        ok = bool(eval(expr, {"lines": lines}, scope))
    except Exception as e:  # a broken expression is a failed check, said plainly
        print(f"FAIL: {expr}: {type(e).__name__}: {e}")
        return False
    print(("ok: " if ok else "FAIL: ") + expr)
    return ok


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--mode", default="fifo")
    ap.add_argument("--devices", type=int, default=1)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--stderr")
    ap.add_argument("--check", action="append", default=[])
    ap.add_argument("--stats-check", action="append", default=[])
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no program given")

    env = dict(os.environ)
    env.setdefault("XSCHED_SIM_NAME", f"xsched-wl-{os.getpid()}")
    for kv in a.env:
        name, sep, value = kv.partition("=")
        if not sep:
            ap.error(f"bad --env value '{kv}': expected NAME=VALUE")
        env[name] = value

    simgpu(a.build, env, "destroy")
    r = simgpu(a.build, env, "create", "--mode", a.mode, "--devices", str(a.devices))
    if r.returncode != 0:
        print(f"FAIL: simgpu create: {r.stderr.strip()}")
        return 1
    try:
        return run(a, env, cmd)
    finally:
        simgpu(a.build, env, "destroy")


def run(a, env, cmd):
    prog = os.path.join(a.build, "bin", cmd[0])
    print("$ " + " ".join([prog, *cmd[1:]]))
    p = subprocess.Popen([prog, *cmd[1:]], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=300)
    sys.stdout.write(out)
    sys.stdout.write("".join("stderr: " + l + "\n" for l in err.splitlines()))
    ok = check(f"exit == {a.exit}", {"exit": p.returncode})
    if a.stderr is not None:
        matched = re.search(a.stderr, err) is not None
        print(("ok: " if matched else "FAIL: ") + f"stderr matches {a.stderr!r}")
        ok &= matched
    if a.check:
        found = [l for l in out.splitlines() if l.startswith("{")]
        if len(found) != 1:
            print(f"FAIL: expected exactly one JSON line, got {len(found)}")
            return 1
        fields = json.loads(found[0])
        for expr in a.check:
            ok &= check(expr, dict(fields))
    if a.stats_check:
        dev, total = ground_truth(a.build, env)
        print(f"ground truth: {json.dumps({'dev': dev, 'total': total})}")
        for expr in a.stats_check:
            ok &= check(expr, {"dev": dev, "total": total})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
