# SPDX-License-Identifier: MIT
"""Helpers for the observer's tests: run `xsched-ctl observe --json`, run a process held
before exec (so that the observer can attach to its pid before its first instruction), read
the JSON both print."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

SKIP = 77  # ctest SKIP_RETURN_CODE


def need_root():
    if os.geteuid() != 0:
        print("skipped: the observer needs root (CAP_BPF, CAP_PERFMON)")
        sys.exit(SKIP)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg)


def sim_env(name, simlib, **extra):
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = simlib
    env["XSCHED_SIM_NAME"] = name
    env.update(extra)
    return env


def unique_name(tag):
    return "xobs-%s-%d" % (tag, os.getpid())


def remove_sim_files(name):
    for suffix in ("", ".nvidiactl", ".kfd"):
        try:
            os.unlink("/dev/shm/" + name + suffix)
        except FileNotFoundError:
            pass


class Observer:
    """xsched-ctl observe --json, started and waited for until it says it is tracing."""

    def __init__(self, ctl, args, ready_timeout=60):
        self.proc = subprocess.Popen([ctl, "observe", "--json"] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr = []
        self.stdout = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()
        # Read as it comes: an observer blocked on a full pipe would stall its loop, and the
        # SIGINT that stops it would interrupt the write and lose part of a line.
        self.out_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self.out_reader.start()
        if not self.ready.wait(ready_timeout) or self.proc.poll() is not None:
            self.proc.kill()
            self.proc.wait()
            fail("observer did not start: rc=%s stderr=%r" % (self.proc.returncode, self.stderr))

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.stdout.append(line)

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))
            if line.startswith("Tracing"):
                self.ready.set()
        self.ready.set()

    def stop(self, timeout=600):
        """Stops it (SIGINT) and returns its JSON objects. Exiting takes a while: the kernel
        detaches uprobes one at a time, about 0.1 s each, and an observer that watched every
        GPU process on a busy machine holds hundreds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=timeout)
        self.out_reader.join(30)
        self.reader.join(5)
        out = "".join(self.stdout)
        if self.proc.returncode != 0:
            fail("observer exited %d: %s" % (self.proc.returncode, "\n".join(self.stderr)))
        objs = []
        for line in out.splitlines():
            try:
                objs.append(json.loads(line))
            except ValueError:
                fail("observer printed a line that is not JSON: %r" % line)
        return objs


def run_line(objs, pid):
    """The observer's whole-run object for pid."""
    runs = [o for o in objs if o["scope"] == "run" and o["pid"] == pid]
    if len(runs) != 1:
        fail("expected one run object for pid %d, got %d" % (pid, len(runs)))
    return runs[0]


def intervals(objs, pid):
    return [o for o in objs if o["scope"] == "interval" and o["pid"] == pid]


class Held:
    """A child process stopped between fork and exec until release(): its pid is known
    before it runs anything, so an observer can attach to it first."""

    def __init__(self, argv, env):
        gate_r, gate_w = os.pipe()
        out_r, out_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(gate_w)
            os.close(out_r)
            os.dup2(out_w, 1)
            os.read(gate_r, 1)
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(gate_r)
        os.close(out_w)
        self.pid = pid
        self.gate = gate_w
        self.out = os.fdopen(out_r)

    def release(self):
        os.write(self.gate, b"x")
        os.close(self.gate)

    def wait(self, timeout=120):
        """Waits for it; returns (exit status, stdout)."""
        deadline = time.time() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                fail("process %d did not finish" % self.pid)
            time.sleep(0.05)
        return os.waitstatus_to_exitcode(status), self.out.read()


def workload_json(out):
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    fail("workload printed no JSON line: %r" % out)


def within(observed, own, rel):
    return own > 0 and abs(observed - own) <= rel * own
