# SPDX-License-Identifier: MIT
"""ioctl decoding: the simulated runtimes issue their drivers' real ioctl numbers on stand-in
files (/dev/shm/<name>.nvidiactl, .kfd); the observer must name the driver and command.

usage: test_ioctl.py CTL BINDIR SIMLIB"""

import sys
import time

from obs_harness import (Held, Observer, check, need_root, remove_sim_files, run_line, sim_env,
                         unique_name)

EXPECTED = {
    "cuda": ("libcuda.so.1", "nvidia", {"NV_ESC_RM_ALLOC": False, "NV_ESC_RM_CONTROL": False}),
    "hip": ("libamdhip64.so.5", "amdkfd",
            {"AMDKFD_IOC_GET_VERSION": False, "AMDKFD_IOC_CREATE_QUEUE": False,
             "AMDKFD_IOC_WAIT_EVENTS": True}),
}


def observe(ctl, bindir, simlib, vendor):
    libname, driver, cmds = EXPECTED[vendor]
    name = unique_name("ioctl-" + vendor)
    argv = [bindir + "/online", "--vendor", vendor, "--rate", "100", "--duration", "0.5",
            "--warmup", "0"]
    held = Held(argv, sim_env(name, simlib))
    try:
        obs = Observer(ctl, ["--pid", str(held.pid), "--lib", simlib + "/" + libname])
        held.release()
        rc, _ = held.wait()
        check(rc == 0, "%s workload exited 0" % vendor)
        time.sleep(1.2)
        objs = obs.stop()
    finally:
        remove_sim_files(name)

    run = run_line(objs, held.pid)
    seen = {c["cmd"]: c for c in run["ioctl_cmds"]}
    print("%s ioctls: %s" % (vendor, ", ".join("%s x%d" % (k, v["count"]) for k, v in
                                             sorted(seen.items()))))
    for cmd, blocking in cmds.items():
        c = seen.get(cmd)
        check(c is not None and c["driver"] == driver, "%s decoded as %s %s" % (vendor, driver,
                                                                              cmd))
        check(c["blocking"] == blocking, "%s %s blocking=%s" % (vendor, cmd, blocking))
        # The stand-in is a regular file: every request fails with ENOTTY.
        check(c["errors"] == c["count"], "%s %s failures counted" % (vendor, cmd))
    check(all(c["driver"] == driver for c in run["ioctl_cmds"]), "%s: only %s ioctls" %
          (vendor, driver))
    check(run["ioctls"] == sum(c["count"] for c in run["ioctl_cmds"]), "ioctl totals add up")


def main():
    ctl, bindir, simlib = sys.argv[1:4]
    need_root()
    observe(ctl, bindir, simlib, "cuda")
    observe(ctl, bindir, simlib, "hip")


if __name__ == "__main__":
    main()
