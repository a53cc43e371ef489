#!/usr/bin/env python3
"""`xsched-ctl top` driven in tmux over a running scenario on the simulated GPU: the rows,
sorting, the filter, a live target change (and the controller taking it), a priority change,
help, a clean exit on q, and plain status text when stdout is not a terminal.

usage: dash_top.py BUILD_DIR SOURCE_DIR. Exit 0 passed, 1 failed, 77 tmux missing."""
import os
import re
import shutil
import subprocess
import sys
import time

from dash_common import SKIP, DashScenario, fail, start_mix, status, stop_ctl, wait_for


class Pane:
    def __init__(self, s, cmd):
        self.sock = f"xsched-test-{os.getpid()}"
        self.tmux = ["tmux", "-L", self.sock, "-u"]
        env = " ".join(f"{k}={v}" for k, v in s.env.items()
                       if k.startswith("XSCHED_") or k == "LD_LIBRARY_PATH")
        # The shell stays after top exits so that its status can be read from the pane.
        subprocess.run([*self.tmux, "new-session", "-d", "-s", "top", "-x", "160", "-y", "40",
                        f"env LANG=C.UTF-8 TERM=xterm-256color {env} {cmd}; "
                        "echo TOP-EXITED-$?; sleep 600"], check=True)

    def keys(self, *keys, literal=False):
        subprocess.run([*self.tmux, "send-keys", "-t", "top", *(["-l"] if literal else []),
                        "--", *keys], check=True)

    def screen(self):
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", "top"],
                              capture_output=True, text=True, check=True).stdout

    def wait(self, what, pred, timeout=30.0):
        last = [""]

        def probe():
            last[0] = self.screen()
            return pred(last[0])
        try:
            return wait_for(what, probe, timeout)
        except SystemExit:
            print("last screen:\n" + last[0])
            raise

    def close(self):
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


def row_line(screen, pid):
    """Index of the table row of `pid`, or None."""
    for i, line in enumerate(screen.splitlines()):
        if re.match(rf"\s*{pid}\s+\S", line):
            return i
    return None


def rows_with_rates(screen, pids):
    for pid in pids:
        i = row_line(screen, pid)
        if i is None:
            return False
        cols = screen.splitlines()[i].split()
        if cols[8] == "-":  # LAUNCH/s: known once two snapshots are 0.5 s apart
            return False
    return True


def main():
    build, src = sys.argv[1], sys.argv[2]
    if not shutil.which("tmux"):
        print("tmux not installed (scripts/install-deps.sh)")
        return SKIP
    top = os.path.join(build, "bin", "xsched-ctl") + " top --interval 200ms"
    with DashScenario(build, "dash-top") as s:
        ctl, batch, online = start_mix(s)
        pane = Pane(s, top)
        try:
            scr = pane.wait("both rows with rates",
                            lambda t: rows_with_rates(t, (batch.pid, online.pid)) and t)
            print(scr)
            with open(os.path.join(build, "top_screen.txt"), "w") as f:
                f.write(scr)
            if not re.search(r"GPU 0", scr) or "target 4ms" not in scr:
                fail("no GPU header with the service's target")
            for pid, name, prio in ((online.pid, "online", "high"),
                                    (batch.pid, "batch", "low")):
                cols = scr.splitlines()[row_line(scr, pid)].split()
                if cols[1] != name or cols[3] != prio or cols[4] != "shim":
                    fail(f"row of {name}: {cols}")
            # Default order: priority, high first.
            if not row_line(scr, online.pid) < row_line(scr, batch.pid):
                fail("rows not sorted by priority")

            # Sort: two columns left of PRIO is COMMAND (ascending: batch first), then reverse.
            pane.keys("<", "<", literal=True)
            pane.wait("sort by COMMAND", lambda t: "sort COMMAND" in t and
                      row_line(t, batch.pid) < row_line(t, online.pid))
            pane.keys("r", literal=True)
            pane.wait("sort by COMMAND, reversed", lambda t: "sort COMMAND (desc)" in t and
                      row_line(t, online.pid) < row_line(t, batch.pid))

            # Filter by name, then clear it.
            pane.keys("/", literal=True)
            pane.keys("onl", literal=True)
            pane.keys("Enter")
            pane.wait("the filter", lambda t: row_line(t, online.pid) is not None and
                      row_line(t, batch.pid) is None and "filter: onl" in t)
            pane.keys("/", literal=True)
            pane.keys("Enter")
            pane.wait("the filter cleared", lambda t: row_line(t, batch.pid) is not None)

            # Target up 10% live: top says so and the controller holds the new target.
            pane.keys("+", literal=True)
            pane.wait("target change applied", lambda t: "target 4.4ms: applied" in t)
            st = wait_for("the controller's new target", lambda: (
                lambda st: st["controller"]["default_target_ns"] == 4400000 and
                any(v["name"] == "default" and v["target_ns"] == 4400000
                    for v in st["services"]) and st)(status(s)))
            print("controller after '+':", st["controller"]["default_target_ns"], "ns")
            pane.wait("the header's new target", lambda t: "target 4.4ms" in t)
            pane.keys("-", literal=True)
            pane.wait("target down applied", lambda t: "target 3.96ms: applied" in t)
            wait_for("the controller's target after '-'", lambda: status(s)["controller"]
                     ["default_target_ns"] == 3960000)

            # Priority of the batch job (second row in reversed name order) to normal.
            pane.keys("Down")
            pane.keys("p", literal=True)
            pane.wait("the priority prompt", lambda t: f"priority for {batch.pid}" in t)
            pane.keys("normal", literal=True)
            pane.keys("Enter")
            pane.wait("priority applied", lambda t: "-> normal: applied" in t)
            wait_for("batch granted normal", lambda: any(
                x["pid"] == batch.pid and x["granted"] == 1 for x in status(s)["processes"]))
            pane.keys("p", literal=True)
            pane.keys("policy", literal=True)
            pane.keys("Enter")
            wait_for("batch back to its policy", lambda: any(
                x["pid"] == batch.pid and x["granted"] == 2 for x in status(s)["processes"]))

            pane.keys("?", literal=True)
            pane.wait("help", lambda t: "xsched top - keys" in t)
            pane.keys("x", literal=True)
            pane.wait("back from help", lambda t: row_line(t, batch.pid) is not None)

            pane.keys("q", literal=True)
            pane.wait("top exits with 0", lambda t: "TOP-EXITED-0" in t)
        finally:
            pane.close()

        # Not a terminal: the status text, once.
        r = subprocess.run(top.split(), env=s.env, capture_output=True, text=True, timeout=30)
        if r.returncode or "controller: pid" not in r.stdout or "online" not in r.stdout:
            fail(f"top without a terminal: rc {r.returncode}: {r.stdout!r} {r.stderr!r}")
        stop_ctl(ctl)
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
