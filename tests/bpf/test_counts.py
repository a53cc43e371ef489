# SPDX-License-Identifier: MIT
"""Launch and copy counts and burst latency: the observer, attached to a workload's pid
before it runs, must count exactly the launches and the asynchronous copies the workload
reports and agree with its own latency percentiles within 10%. With `--copy-in-bytes` each
request starts with a host-to-device copy, so each burst is opened by a copy and must be
timed from it.

usage: test_counts.py CTL BINDIR SIMLIB LIBNAME [online options...]"""

import sys
import time

from obs_harness import (Held, Observer, check, intervals, need_root, remove_sim_files,
                         run_line, sim_env, unique_name, within, workload_json)


def main():
    ctl, bindir, simlib, libname = sys.argv[1:5]
    extra = sys.argv[5:]
    need_root()
    name = unique_name("counts")
    # Kernels long enough that the GPU time dominates: a uprobe's trap, outside the
    # observer's window but inside the workload's, costs tens of microseconds in a VM. The
    # workload runs SCHED_FIFO so that other tests on the machine do not add preemptions to
    # its own timings that the observer's do not share.
    argv = ["chrt", "-f", "10", bindir + "/online", "--rate", "100", "--duration", "3",
            "--warmup", "0", "--kernels", "4", "--kernel-us", "1000"] + extra
    held = Held(argv, sim_env(name, simlib))
    try:
        obs = Observer(ctl, ["--pid", str(held.pid), "--lib", simlib + "/" + libname,
                             "--interval", "500ms"])
        held.release()
        rc, out = held.wait()
        check(rc == 0, "workload %s exited 0" % " ".join(argv[3:]))
        time.sleep(1.2)  # two more intervals, so that its exit is reported
        objs = obs.stop()
    finally:
        remove_sim_files(name)

    own = workload_json(out)
    run = run_line(objs, held.pid)
    print("workload: launches %d copies %d p50 %.3f ms p99 %.3f ms" %
          (own["launches"], own["copies"], own["p50_ms"], own["p99_ms"]))
    print("observer: launches %d copies %d bursts %d p50 %.3f ms p99 %.3f ms" %
          (run["launches"], run["copies"], run["bursts"], run["burst_p50_us"] / 1e3,
           run["burst_p99_us"] / 1e3))
    check(run["launches"] == own["launches"], "launch count equals the workload's")
    check(run["copies"] == own["copies"], "copy count equals the workload's")
    check(run["commands"] == own["launches"] + own["copies"], "commands = launches + copies")
    check(run["bursts"] == own["requests"], "one burst per request")
    check(sum(o["launches"] for o in intervals(objs, held.pid)) == own["launches"],
          "per-interval launches add up to the total")
    check(sum(o["copies"] for o in intervals(objs, held.pid)) == own["copies"],
          "per-interval copies add up to the total")
    # A stream's last counts before it is destroyed may fall in no interval: no sums here.
    streams = [s for o in intervals(objs, held.pid) for s in o["streams"]]
    check(any(s["copies"] for s in streams) and
          all(s["commands"] == s["launches"] + s["copies"] for s in streams),
          "per-stream copies shown, commands = launches + copies (%s)" %
          [(s["launches"], s["copies"], s["commands"]) for s in streams])
    check(within(run["burst_p50_us"] / 1e3, own["p50_ms"], 0.10), "P50 within 10%")
    check(within(run["burst_p99_us"] / 1e3, own["p99_ms"], 0.10), "P99 within 10%")
    rows = [{k: o[k] for k in ("exited", "launches", "in_flight")}
            for o in intervals(objs, held.pid)]
    check(rows[-1]["exited"] and rows[-1]["in_flight"] == 0,
          "ends with nothing in flight, exited (rows %s)" % rows)
    check(run["syncs"] >= own["requests"], "every request's synchronisation seen")


if __name__ == "__main__":
    main()
