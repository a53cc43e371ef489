# SPDX-License-Identifier: MIT
"""A process started after the observer, without being named to it, is found (its opening of
the runtime library is reported by libwatch.bpf.c; the /proc scan is the fallback) and its
launches counted from then on.

usage: test_late.py CTL BINDIR SIMLIB"""

import subprocess
import sys
import time

from obs_harness import (Observer, check, intervals, need_root, remove_sim_files, run_line,
                         sim_env, unique_name, workload_json)


def main():
    ctl, bindir, simlib = sys.argv[1:4]
    need_root()
    name = unique_name("late")
    obs = Observer(ctl, ["--interval", "500ms"])
    try:
        time.sleep(0.5)
        # Long enough to outlast the attach: it waits behind the uprobe detaches of every
        # other GPU process that exited on the machine (about 0.1 s per probe, kernel-wide,
        # and each process holds its launch and memory-command probes), seconds on a busy one.
        p = subprocess.Popen([bindir + "/online", "--rate", "200", "--duration", "6",
                              "--warmup", "0"], env=sim_env(name, simlib),
                             stdout=subprocess.PIPE, text=True)
        out, _ = p.communicate(timeout=60)
        check(p.returncode == 0, "workload exited 0")
        time.sleep(1.2)
        objs = obs.stop()
    finally:
        remove_sim_files(name)
    own = workload_json(out)
    pid = p.pid
    check(any(o["pid"] == pid for o in objs), "the late process appears")
    run = run_line(objs, pid)
    print("workload launches %d, observer %d (those before the attach are missed)" %
          (own["launches"], run["launches"]))
    check(0 < run["launches"] <= own["launches"] and run["comm"] == "online",
          "launches counted, never more than made; named")
    check(run["launch_probes"] and run["cuda"], "launch probes attached, CUDA seen")
    check(run["bursts"] > 0 and run["burst_p50_us"] is not None, "bursts measured")
    rows = [{k: o[k] for k in ("exited", "launches", "in_flight")} for o in intervals(objs, pid)]
    check(rows[-1]["exited"], "its exit is reported (rows %s)" % rows)


if __name__ == "__main__":
    main()
