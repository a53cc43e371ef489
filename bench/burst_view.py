#!/usr/bin/env python3
"""What the shim sees of a service's requests, against what the service itself measures.

The controller holds the P99 of the shim's burst latency (first command while idle to the
synchronising call that drains it); a service measures from its request's send time. This
runs the online service (PyTorch, open loop, high priority under libxsched.so) alone, or
beside batch jobs as below-normal MPS clients (--beside N), then reads the shim's latency ring
(xsched-testctl --dump) and prints, over the same last requests: bursts per request, commands
per burst, and the P50/P99 of the shim's bursts next to the service's own latencies (from the
send time, and from the scheduled time).

usage (on the GPU machine): bench/burst_view.py --build DIR [--duration 15] [--beside 1]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GPU = os.path.join(HERE, "..", "tests", "gpu")
MPS_DIRS = {"CUDA_MPS_PIPE_DIRECTORY": "/tmp/xsched-mps-pipe",
            "CUDA_MPS_LOG_DIRECTORY": "/tmp/xsched-mps-log"}


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))] if s else 0.0


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--build", required=True)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--beside", type=int, default=0, help="batch jobs beside it (MPS, low)")
    ap.add_argument("--batch-size", type=int, default=1024)
    a = ap.parse_args()
    if a.duration <= 0 or a.duration * a.rate > 400:
        sys.exit(f"burst_view: bad --duration {a.duration}: want > 0 and at most 400 requests "
                 f"(the shim's ring keeps 512 bursts)")
    shm = f"xs-burst-view-{os.getpid()}"
    lib = os.path.abspath(os.path.join(a.build, "lib", "libxsched.so"))
    env = dict(os.environ, XSCHED_SHM=shm, XSCHED_LOG="quiet", **(MPS_DIRS if a.beside else {}))
    if a.beside:  # an MPS server, so that the batch jobs are below-normal clients
        for d in MPS_DIRS.values():
            os.makedirs(d, exist_ok=True)
        subprocess.run(["nvidia-cuda-mps-control", "-d"], env=env, check=True)
        time.sleep(1)
    jobs = []
    for i in range(a.beside):
        p = subprocess.Popen([os.path.join(a.build, "bin", "xsched-run"), "--priority", "low",
                              "--", sys.executable, os.path.join(GPU, "torch_batch.py"),
                              "--batch", str(a.batch_size), "--duration", "0"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in p.stderr:
            if line.strip() == "ready":
                break
        jobs.append(p)
    o = subprocess.run([os.path.join(a.build, "bin", "xsched-run"), "--priority", "high", "--",
                        sys.executable, os.path.join(GPU, "torch_online.py"), "--rate",
                        str(a.rate), "--duration", str(a.duration), "--all-latencies"],
                       env=env, capture_output=True, text=True, timeout=a.duration + 300)
    for p in jobs:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
    if a.beside:
        subprocess.run(["nvidia-cuda-mps-control"], input="quit\n", text=True, env=env)
        time.sleep(2)
    app = json.loads([l for l in o.stdout.splitlines() if l.startswith("{")][-1])
    d = json.loads(subprocess.run([os.path.join(a.build, "bin", "xsched-testctl"), "--dump",
                                   "--shm", shm], capture_output=True, text=True,
                                  check=True).stdout)
    subprocess.run(["rm", "-f", f"/dev/shm/{shm}", f"/dev/shm/{shm}.grants"])
    online = [p for p in d["procs"] if p["requested_prio"] == 0]
    if not online:
        sys.exit("burst_view: the service's slot is not in the segment")
    p = online[0]
    n = app["requests"]
    bursts = [b for b in p["latencies"] if not b[4]]
    last = bursts[-n:]
    shim_ms = [b[1] / 1e6 for b in last]
    cmds = sorted(b[3] for b in last)
    lat = app["latencies_ms"]
    # The latency from the send time is not in the per-request list; its P50/P99 are.
    print(f"requests {n}, bursts in the ring {len(p['latencies'])} (cold "
          f"{sum(1 for b in p['latencies'] if b[4])}), of the process "
          f"{p['gpus'][0]['bursts'] if p['gpus'] else '?'}")
    print(f"commands per burst over the last {len(last)}: min {cmds[0]} P50 {pct(cmds, 50)} "
          f"max {cmds[-1]}")
    print(f"service, from the scheduled time: P50 {pct(lat, 50):.3f} P99 {pct(lat, 99):.3f} ms")
    print(f"service, from the send time:      P50 {app['p50_sent_ms']:.3f} P99 "
          f"{app['p99_sent_ms']:.3f} ms")
    print(f"shim bursts:                      P50 {pct(shim_ms, 50):.3f} P99 "
          f"{pct(shim_ms, 99):.3f} ms")
    print(json.dumps({"beside": a.beside, "requests": n, "bursts": len(last),
                      "commands": [cmds[0], pct(cmds, 50), cmds[-1]],
                      "app_p50_ms": pct(lat, 50), "app_p99_ms": pct(lat, 99),
                      "app_sent_p50_ms": app["p50_sent_ms"], "app_sent_p99_ms":
                      app["p99_sent_ms"], "shim_p50_ms": pct(shim_ms, 50),
                      "shim_p99_ms": pct(shim_ms, 99), "shim_ms": shim_ms,
                      "app_ms": lat}))


if __name__ == "__main__":
    main()
