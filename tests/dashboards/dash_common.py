"""What the dashboard tests share: a running scenario on the simulated GPU (controller,
a high-priority online service and a low-priority batch job, all real processes under the
shim) and `xsched-ctl status --json`."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
from xsched_scenario import Scenario  # noqa: E402,F401

SKIP = 77


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def status(s):
    r = subprocess.run([os.path.join(s.bin, "xsched-ctl"), "status", "--json"], env=s.env,
                       capture_output=True, text=True, timeout=20)
    if r.returncode:
        fail("xsched-ctl status failed: " + r.stderr)
    return json.loads(r.stdout)


def wait_for(what, pred, timeout=30.0, step=0.2):
    """pred() until truthy (returned), or fail after `timeout` s: generous, since a loaded
    2-core machine can stall any of the processes for a while."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            fail("timed out waiting for " + what)
        time.sleep(step)


def start_mix(s, target="4ms", extra=()):
    """Controller, batch (low, nice 19: on 2 cores its launcher would otherwise take CPU
    from the service) and online (high); returns (ctl, batch, online) once the controller
    publishes both processes."""
    ctl = subprocess.Popen([os.path.join(s.bin, "xsched-ctl"), "run", "--p99-target", target,
                            "--no-ebpf", *extra], env=s.env, stderr=subprocess.PIPE, text=True)
    s.procs.append(ctl)
    wait_for("the controller", lambda: ctl.poll() is not None or
             status(s)["controller"]["running"])
    if ctl.poll() is not None:
        fail("xsched-ctl run exited: " + ctl.stderr.read())
    env = dict(s.env, LD_PRELOAD=os.path.join(s.build, "lib", "libxsched.so"),
               XSCHED_PRIORITY="low")
    batch = subprocess.Popen([os.path.join(s.bin, "batch"), "--kernel-us", "200",
                              "--kernels-per-iter", "100", "--duration", "0"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             preexec_fn=lambda: os.nice(19))
    s.procs.append(batch)
    online = s.start("online", "--rate", "20", "--duration", "120", "--kernels", "10",
                     "--kernel-us", "100", shim={"XSCHED_PRIORITY": "high"})
    pids = {batch.pid, online.pid}
    wait_for("both processes in the controller's status",
             lambda: pids <= {x["pid"] for x in status(s)["processes"]})
    return ctl, batch, online


class DashScenario(Scenario):
    """A Scenario whose protocol segment is its own and is removed at the end."""

    def __init__(self, build, name):
        super().__init__(build, name)
        # The protocol segment must not share the simulated device's name (both live in
        # /dev/shm).
        self.env["XSCHED_SHM"] = self.name + "-ctl"

    def close(self):
        super().close()
        for n in (self.env["XSCHED_SHM"], *(self.env["XSCHED_SHM"] + x
                                            for x in (".ctl", ".grant", ".set"))):
            try:
                os.unlink(os.path.join("/dev/shm", n))
            except FileNotFoundError:
                pass


def stop_ctl(ctl):
    if ctl.poll() is None:
        ctl.send_signal(signal.SIGINT)
    try:
        ctl.wait(timeout=30)
    except subprocess.TimeoutExpired:
        ctl.kill()
