"""Runs test workloads as real processes on the simulated GPU and collects their JSON lines.

Shared by the integration tests: each test names a fresh simulated device (XSCHED_SIM_NAME)
and protocol segment (XSCHED_SHM), so tests can run in parallel."""
import json
import os
import subprocess
import sys
import time


class Scenario:
    def __init__(self, build, name, mode="fifo", devices=1, slice_us=None):
        self.build = os.path.abspath(build)
        self.bin = os.path.join(self.build, "bin")
        self.name = f"xsched-test-{name}-{os.getpid()}"
        self.env = dict(os.environ)
        self.env.update({
            "LD_LIBRARY_PATH": os.path.join(self.build, "sim", "lib"),
            "XSCHED_SIM_NAME": self.name,
            "XSCHED_SHM": self.name + "-ctl",
            "XSCHED_SIM_MODE": mode,
            "XSCHED_SIM_DEVICES": str(devices),
        })
        if slice_us:
            self.env["XSCHED_SIM_SLICE_US"] = str(slice_us)
        self.procs = []
        self.tool("simgpu", "destroy", check=False)
        args = ["create", "--mode", mode, "--devices", str(devices)]
        if slice_us:
            args += ["--slice-us", str(slice_us)]
        self.tool("simgpu", *args)

    def tool(self, prog, *args, check=True, env=None):
        r = subprocess.run([os.path.join(self.bin, prog), *args], env=env or self.env,
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"{prog} {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def start(self, prog, *args, shim=None, extra_env=None):
        """Start a workload; shim = None (native) or a dict of XSCHED_* settings."""
        env = dict(self.env)
        if shim is not None:
            env["LD_PRELOAD"] = os.path.join(self.build, "lib", "libxsched.so")
            env.update(shim)
        if extra_env:
            env.update(extra_env)
        p = subprocess.Popen([os.path.join(self.bin, prog), *args], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    @staticmethod
    def result(p, timeout=120):
        out, err = p.communicate(timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{p.args} exited {p.returncode}: {err.strip()}")
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"{p.args} printed no JSON: {out!r} {err!r}")
        return json.loads(lines[-1])

    def stats(self):
        r = self.tool("simgpu", "stats", "--json")
        return [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.tool("simgpu", "destroy", check=False)
        # The protocol's segments of this test (the controller leaves its grant segment
        # for a successor; the test has none).
        for suffix in ("", ".grant", ".ctl", ".set"):
            try:
                os.unlink("/dev/shm/" + self.env["XSCHED_SHM"] + suffix)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stop_after(p, seconds):
    """Let a background workload run for `seconds` more, then interrupt it (SIGINT: it prints
    its JSON and exits)."""
    time.sleep(seconds)
    p.send_signal(2)


def table(title, rows, cols):
    print(f"\n{title}")
    print(" | ".join(f"{c:>14}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r.get(c, ''):>14.3f}" if isinstance(r.get(c), float)
                         else f"{str(r.get(c, '')):>14}" for c in cols))
    sys.stdout.flush()
