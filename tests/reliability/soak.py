#!/usr/bin/env python3
"""64 processes on the simulated GPU under the controller, for a bounded soak (issue 9).

usage: soak.py BUILD_DIR [SECONDS]     (default $XSCHED_SOAK_SECONDS, else 120)

The apps, all under the shim, all at once on one simulated GPU (timeslice mode):
  4  online services (high priority, 10 req/s, bursts of 4 x 200 us)
  48 batch jobs (low priority, CPU nice 19, iterations of 4 x 1 ms kernels)
  12 lanes of the correctness workload (low priority), each a fresh process back to back
     until the end, so that registration and slot reuse run throughout
with `xsched-ctl run` at its default 20 ms interval holding a P99 target for the services.

Checks: every process exits 0 with its result, and the device model saw every one of its
commands complete (none lost; batch jobs: exactly the kernels they launched; correctness
digests: none reordered); the controller used under 2% of one core (utime + stime from
/proc/PID/stat over the soak, after a 10 s warm-up); its private memory (RssAnon, sampled
every 2 s after the warm-up) is flat and has plateaued: no sample more than 128 KiB above the
first, and the largest of the last third of the samples no more than 32 KiB above the largest
of the middle third (a leak of 1 KiB/s shows as about 36 KiB between the thirds of a 120 s
soak, and one slow enough to stay under 128 KiB in total shows there all the same); the
controller's state is fixed arrays made resident when allocated, and its loop allocates
nothing, so nothing is expected to grow at all; it listed all 64 apps. VmRSS is printed too
(it includes the shared segments' pages it touched). Writes BUILD/reliability/soak.json.
Exit 0 passed, 1 failed, 77 not built.
"""
import os
import signal
import sys
import threading
import time

from relcommon import Ctl, Scenario, Tally, finish, ground_truth, need, shim_env, spawn, stats

N_ONLINE, N_BATCH, N_CORR = 4, 48, 12
WARMUP_S = 10
CPU_LIMIT = 0.02
RSS_SLACK_KB = 128    # any sample above the first after the warm-up
RSS_PLATEAU_KB = 32   # the last third's largest above the middle third's largest
RSS_EVERY_S = 2
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def rss_kb(pid, field="RssAnon"):
    """Its private memory (RssAnon): where a leak shows. VmRSS also counts the pages of the
    shared segments it has touched, which grows as apps take slots further in."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def check_rss(t, rss):
    """Flat (against the first sample) and plateaued (last third against middle third)."""
    print(f"controller RssAnon samples (KiB, every {RSS_EVERY_S} s): " + " ".join(map(str, rss)))
    if not t.check(len(rss) >= 3, f"{len(rss)} RssAnon samples after the warm-up (need 3)"):
        return
    t.check(max(rss) - rss[0] <= RSS_SLACK_KB,
            f"controller private RSS flat: {rss[0]} KiB after warm-up, max {max(rss)} KiB "
            f"over {len(rss)} samples (+{max(rss) - rss[0]} KiB, bound +{RSS_SLACK_KB} KiB)")
    a, b = len(rss) // 3, 2 * len(rss) // 3
    mid, last = max(rss[a:b]), max(rss[b:])
    span = (b - a) * RSS_EVERY_S
    t.check(last - mid <= RSS_PLATEAU_KB,
            f"controller private RSS plateaued: largest of the last third {last} KiB, of the "
            f"middle third {mid} KiB (+{last - mid} KiB, bound +{RSS_PLATEAU_KB} KiB; a leak of "
            f"1 KiB/s would add about {span} KiB between thirds {span} s apart)")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        sys.exit(2)
    build = os.path.abspath(sys.argv[1])
    arg = sys.argv[2] if len(sys.argv) == 3 else os.environ.get("XSCHED_SOAK_SECONDS", "120")
    try:
        seconds = int(arg)
        if seconds < 2 * WARMUP_S or seconds > 86400:
            raise ValueError
    except ValueError:
        print(f"soak.py: bad duration '{arg}': expected whole seconds from {2 * WARMUP_S} "
              "to 86400", file=sys.stderr)
        sys.exit(2)
    need(build, "bin/online", "bin/batch", "bin/correctness", "bin/simgpu", "bin/xsched-ctl",
         "lib/libxsched.so", "sim/lib/libcuda.so.1")
    t = Tally(build, "soak", "soak")
    try:
        soak(build, t, seconds)
    except Exception as e:
        t.check(False, f"soak raised {type(e).__name__}: {e}")
    t.finish()


def soak(build, t, seconds):
    with Scenario(build, "rel-soak", mode="timeslice") as s:
        ctl = Ctl(s, "--p99-target", "20ms")
        st = ctl.status()
        t.check(st["controller"]["interval_ns"] == 20_000_000,
                f"controller interval {st['controller']['interval_ns'] / 1e6:g} ms")
        deadline = time.monotonic() + seconds
        online = [spawn(s, "online", "--rate", 10, "--duration", seconds, "--kernels", 4,
                        "--kernel-us", 200, "--warmup", 0, env=shim_env(s, priority="high"))
                  for _ in range(N_ONLINE)]
        batch = [spawn(s, "batch", "--duration", seconds, "--kernel-us", 1000,
                       "--kernels-per-iter", 4, env=shim_env(s, priority="low"), nice=19)
                 for _ in range(N_BATCH)]
        runs, lock = [], threading.Lock()

        def lane():
            while time.monotonic() < deadline - 5:
                p = spawn(s, "correctness", "--rounds", 20, "--kernel-us", 300,
                          env=shim_env(s, priority="low"))
                r = finish(p, timeout=seconds + 300)
                # Read now: the model keeps 256 processes, and the lanes start more than
                # that in a soak once the batch jobs take turns (they then run fast).
                rows = stats(s, p.pid)
                with lock:
                    runs.append((p,) + r + (rows,))

        lanes = [threading.Thread(target=lane, daemon=True) for _ in range(N_CORR)]
        for th in lanes:
            th.start()

        most = 0
        rss = []
        t_warm = time.monotonic() + WARMUP_S
        cpu0 = None
        while time.monotonic() < deadline:
            now = time.monotonic()
            if cpu0 is None and now >= t_warm:
                cpu0, w0 = cpu_s(ctl.p.pid), now
            if now >= t_warm:
                rss.append(rss_kb(ctl.p.pid))
                vm = rss_kb(ctl.p.pid, "VmRSS")
            st = ctl.status()
            most = max(most, len({x["pid"] for x in (st or {}).get("processes", [])}))
            time.sleep(RSS_EVERY_S)
        cpu1, w1 = cpu_s(ctl.p.pid), time.monotonic()

        for p in online:
            rc, res, err = finish(p, timeout=300)
            ground_truth(t, s, p, res, f"online {p.pid}")
        for p in batch:
            rc, res, err = finish(p, timeout=300)
            ground_truth(t, s, p, res, f"batch {p.pid}", kernels=res["kernels"] if res else None)
        for th in lanes:
            th.join(timeout=600)
        for p, rc, res, err, rows in runs:
            ground_truth(t, s, p, res, f"correctness {p.pid}", rows=rows)
        ctl.stop()

    use = (cpu1 - cpu0) / (w1 - w0)
    t.check(most >= N_ONLINE + N_BATCH + N_CORR,
            f"the controller listed {most} apps at once (of {N_ONLINE + N_BATCH + N_CORR})")
    t.check(len(runs) >= N_CORR, f"{len(runs)} correctness processes in {N_CORR} lanes")
    t.check(use < CPU_LIMIT, f"controller CPU {100 * use:.2f}% of one core over "
            f"{w1 - w0:.0f} s (limit {100 * CPU_LIMIT:g}%)")
    check_rss(t, rss)
    print(f"\nsoak: {seconds} s, {t.processes} processes, {t.commands} commands checked, "
          f"controller CPU {100 * use:.2f}%, RssAnon {rss[0] if rss else 0}..{max(rss or [0])} "
          f"KiB, VmRSS at the end {vm} KiB")


if __name__ == "__main__":
    main()
