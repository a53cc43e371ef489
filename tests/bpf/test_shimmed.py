# SPDX-License-Identifier: MIT
"""Processes that preload the xsched shim: with --skip-shimmed the observer leaves their
launch probes off (the shim counts their launches) but still sees their synchronisations;
without it, it counts their launches exactly like anyone else's.

usage: test_shimmed.py CTL BINDIR SIMLIB SHIM"""

import subprocess
import sys
import time

from obs_harness import (Observer, check, need_root, remove_sim_files, run_line, sim_env,
                         unique_name, workload_json)


def run_shimmed(ctl, bindir, simlib, shim, observer_args):
    name = unique_name("shim")
    obs = Observer(ctl, ["--interval", "500ms", "--lib", simlib + "/libcuda.so.1"] +
                   observer_args)
    try:
        p = subprocess.Popen([bindir + "/online", "--rate", "100", "--duration", "1",
                              "--warmup", "0"], env=sim_env(name, simlib, LD_PRELOAD=shim),
                             stdout=subprocess.PIPE, text=True)
        out, _ = p.communicate(timeout=60)
        check(p.returncode == 0, "shimmed workload exited 0")
        time.sleep(1.2)
        objs = obs.stop()
    finally:
        remove_sim_files(name)
    check(any(o["pid"] == p.pid for o in objs), "the shimmed process is observed")
    return workload_json(out), run_line(objs, p.pid)


def main():
    ctl, bindir, simlib, shim = sys.argv[1:5]
    need_root()
    own, run = run_shimmed(ctl, bindir, simlib, shim, ["--skip-shimmed"])
    check(not run["launch_probes"] and run["launches"] == 0,
          "--skip-shimmed: no launch probes, no launches counted")
    check(run["syncs"] >= own["requests"], "--skip-shimmed: synchronisations still seen")
    own, run = run_shimmed(ctl, bindir, simlib, shim, [])
    check(run["launch_probes"] and 0 < run["launches"] <= own["launches"],
          "without it: launches counted (%d of %d)" % (run["launches"], own["launches"]))


if __name__ == "__main__":
    main()
