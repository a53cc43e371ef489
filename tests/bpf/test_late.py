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
        p = subprocess.run([bindir + "/online", "--rate", "200", "--duration", "2", "--warmup",
                            "0"], env=sim_env(name, simlib), capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 0, "workload exited 0")
        time.sleep(1.2)
        objs = obs.stop()
    finally:
        remove_sim_files(name)
    own = workload_json(p.stdout)
    pid = None
    for o in objs:
        if o["comm"] == "online" and o["scope"] == "run" and o["launches"] > 0:
            pid = o["pid"]
    check(pid is not None, "the late process appears, with launches")
    run = run_line(objs, pid)
    print("workload launches %d, observer %d (those before the attach are missed)" %
          (own["launches"], run["launches"]))
    check(0 < run["launches"] <= own["launches"], "launches counted, never more than made")
    check(run["launch_probes"] and run["cuda"], "launch probes attached, CUDA seen")
    check(run["bursts"] > 0 and run["burst_p50_us"] is not None, "bursts measured")
    check(intervals(objs, pid)[-1]["exited"], "its exit is reported")


if __name__ == "__main__":
    main()
