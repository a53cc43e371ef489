# SPDX-License-Identifier: MIT
"""Every way the runtimes complete work: the `correctness` workload uses several threads,
created and default (legacy or per-thread) streams, events across streams, captured graphs,
copies and device synchronisation. The observer must count exactly its launches (graph
launches count one each) and end with nothing in flight: every launch was seen to drain.

usage: test_drain.py CTL BINDIR SIMLIB LIBNAME [correctness options...]"""

import sys
import time

from obs_harness import (Held, Observer, check, intervals, need_root, remove_sim_files,
                         run_line, sim_env, unique_name, workload_json)


def main():
    ctl, bindir, simlib, libname = sys.argv[1:5]
    need_root()
    name = unique_name("drain")
    argv = [bindir + "/correctness"] + sys.argv[5:]
    held = Held(argv, sim_env(name, simlib))
    try:
        obs = Observer(ctl, ["--pid", str(held.pid), "--lib", simlib + "/" + libname,
                             "--interval", "500ms"])
        held.release()
        rc, out = held.wait()
        check(rc == 0, "correctness %s exited 0" % " ".join(argv[1:]))
        time.sleep(1.2)
        objs = obs.stop()
    finally:
        remove_sim_files(name)
    own = workload_json(out)
    run = run_line(objs, held.pid)
    rows = [{k: o[k] for k in ("exited", "launches", "in_flight")}
            for o in intervals(objs, held.pid)]
    print("workload: %d launches + %d graph launches; observer: %d launches, %d bursts, "
          "%d syncs" % (own["launches"], own["graph_launches"], run["launches"], run["bursts"],
                        run["syncs"]))
    check(run["launches"] == own["launches"] + own["graph_launches"], "launch count exact")
    check(rows[-1]["exited"] and rows[-1]["in_flight"] == 0,
          "everything launched was seen to complete (rows %s)" % rows)
    check(run["bursts"] > 0 and run["syncs"] > 0, "bursts and synchronisations seen")


if __name__ == "__main__":
    main()
