#!/usr/bin/env python3
"""The Prometheus exporter (`xsched-ctl run --metrics ADDR`) scraped during a scenario on the
simulated GPU: the exposition passes `promtool check metrics`, and its values agree with
`xsched-ctl status --json` read just before and just after the scrape (counters between the
two, gauges equal to one of them). Also: bad addresses are refused with exit 2, other paths
get 404, and the exporter's rendering of awkward names (metrics_sample) passes promtool.

usage: dash_metrics.py BUILD_DIR. Exit 0 passed, 1 failed."""
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from dash_common import DashScenario, fail, start_mix, status, stop_ctl, wait_for

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
PRIO = {0: "high", 1: "normal", 2: "low"}
UNLIMITED = 0x7fffffff


def parse(text):
    """[(name, {labels}, value)] of the sample lines."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            fail("unparsable line: " + line)
        labels = dict(LABEL.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def promtool(text, what):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    if r.returncode:
        fail(f"promtool check metrics ({what}): {r.stdout}{r.stderr}")
    print(f"promtool check metrics ({what}): ok")


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def scrape(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        if not r.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"):
            fail("content type " + r.headers.get("Content-Type", ""))
        return r.read().decode()


def one(samples, name, **labels):
    got = [v for n, l, v in samples if n == name and all(l.get(k) == str(x)
                                                         for k, x in labels.items())]
    if len(got) != 1:
        raise LookupError(f"{name}{labels}: {len(got)} samples")
    return got[0]


def compare(samples, st0, st1):
    """None when the scrape agrees with the two status snapshots around it, else why not."""
    try:
        target = st1["controller"]["default_target_ns"] / 1e9
        if one(samples, "xsched_default_p99_target_seconds") != target:
            return "default target"
        for v in st1["services"]:
            lab = dict(service=v["name"], gpu=v["gpu"])
            if abs(one(samples, "xsched_p99_target_seconds", **lab) - v["target_ns"] / 1e9) > 1e-9:
                return "service target"
            states = [n for n, l, x in samples if n == "xsched_controller_state" and x == 1
                      and l["service"] == v["name"]]
            if len(states) != 1:
                return "state series"
            cur = [l["state"] for n, l, x in samples if n == "xsched_controller_state" and
                   x == 1 and l["service"] == v["name"]][0]
            before = [w["state"] for w in st0["services"] if w["name"] == v["name"]]
            if cur not in before + [v["state"]]:
                return f"state {cur} not in {before + [v['state']]}"
            got = one(samples, "xsched_service_cold_bursts_total", **lab)
            c0 = [w["cold_bursts"] for w in st0["services"] if w["name"] == v["name"]]
            if not c0 or not c0[0] <= got <= v["cold_bursts"]:
                return f"cold bursts {got} not within {c0} .. {v['cold_bursts']}"
        for x1 in st1["processes"]:
            x0 = [x for x in st0["processes"] if x["pid"] == x1["pid"]][0]
            lab = dict(pid=x1["pid"], comm=x1["comm"], gpu=x1["gpu"],
                       priority=PRIO.get(x1["granted"], str(x1["granted"])))
            for metric, key, scale in (("xsched_launches_total", "launches", 1),
                                       ("xsched_completions_total", "completions", 1),
                                       ("xsched_blocked_seconds_total", "blocked_ns", 1e9),
                                       ("xsched_bursts_total", "bursts", 1),
                                       ("xsched_burst_latency_seconds_count", "lat_count", 1)):
                got = one(samples, metric, **lab)
                if not x0[key] / scale - 1e-9 <= got <= x1[key] / scale + 1e-9:
                    return f"{metric} {got} not within [{x0[key]}, {x1[key]}] / {scale}"
            for w in ("busy", "idle"):
                got = one(samples, "xsched_window_commands", window=w, **lab)
                want = {x0["w_" + w], x1["w_" + w]}
                want = {math.inf if v >= UNLIMITED else v for v in want}
                if got not in want:
                    return f"window {w} {got} not in {want}"
            inf = one(samples, "xsched_burst_latency_seconds_bucket", le="+Inf", **lab)
            if inf != one(samples, "xsched_burst_latency_seconds_count", **lab):
                return "+Inf bucket != count"
            bks = sorted((float(l["le"]), v) for n, l, v in samples
                         if n == "xsched_burst_latency_seconds_bucket" and
                         l["pid"] == str(x1["pid"]))
            if any(b[1] > c[1] for b, c in zip(bks, bks[1:])):
                return "buckets not cumulative"
    except (LookupError, IndexError) as e:
        return str(e)
    return None


def main():
    build = sys.argv[1]
    ctl_bin = os.path.join(build, "bin", "xsched-ctl")
    if not shutil.which("promtool"):
        fail("promtool not installed (Debian package prometheus: scripts/install-deps.sh)")
    sample = subprocess.run([os.path.join(build, "bin", "metrics_sample")], check=True,
                            capture_output=True, text=True).stdout
    promtool(sample, "metrics_sample")
    # The sample's shimmed process has stream priorities and a CU mask, not MPS priority.
    acts = {(m.group(1), m.group(2)): m.group(3) for m in re.finditer(
        r'^xsched_actuator\{.*pid="(\d+)".*actuator="(\w+)"\} (\d)$', sample, re.M)}
    want = {("100", "mps_priority"): "0", ("100", "stream_priority"): "1",
            ("100", "cu_mask"): "1", ("200", "mps_priority"): "0",
            ("200", "stream_priority"): "0", ("200", "cu_mask"): "0",
            ("100", "time_sliced"): "0", ("200", "time_sliced"): "0"}
    if acts != want:
        fail(f"xsched_actuator series: {acts}, want {want}")
    print("xsched_actuator: one series per process and actuator, 1 where in effect")
    turns = {m.group(1): m.group(2) for m in re.finditer(
        r'^xsched_turn\{.*pid="(\d+)".*\} (\d)$', sample, re.M)}
    if turns != {"100": "0", "200": "2"}:
        fail(f"xsched_turn series: {turns}, want 100 without turns, 200 waiting (2)")
    print("xsched_turn: 0 without turns, 2 waiting")

    with DashScenario(build, "dash-metrics") as s:
        for bad in ("127.0.0.1:99999", "example.com:9464", "9464", "[::1]9464"):
            r = subprocess.run([ctl_bin, "run", "--p99-target", "4ms", "--metrics", bad],
                               env=s.env, capture_output=True, text=True, timeout=30)
            if r.returncode != 2 or len(r.stderr.strip().splitlines()) != 1:
                fail(f"--metrics {bad}: rc {r.returncode}, stderr {r.stderr!r}")
        print("bad addresses refused with exit 2")

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        ctl, batch, online = start_mix(s, extra=("--metrics", f"127.0.0.1:{port}"))
        wait_for("latency samples of both processes", lambda: all(
            x["lat_count"] > 0 for x in status(s)["processes"]), timeout=40)
        try:
            urllib.request.urlopen(url + "/other", timeout=10)
            fail("/other answered 200")
        except urllib.error.HTTPError as e:
            if e.code != 404:
                fail(f"/other: {e.code}")
        why = None
        for attempt in range(8):
            st0 = status(s)
            text = scrape(url + "/metrics")
            st1 = status(s)
            why = compare(parse(text), st0, st1)
            print(f"attempt {attempt + 1}: {why or 'values match xsched-ctl status --json'}")
            if not why:
                break
        if why:
            print(text)
            fail("metrics disagree with status: " + why)
        promtool(text, "scenario")
        with open(os.path.join(build, "metrics_scrape.txt"), "w") as f:
            f.write(text)
        stop_ctl(ctl)
        # The controller gone: the port is closed with it.
        try:
            urllib.request.urlopen(url + "/metrics", timeout=5)
            fail("the exporter still answers after the controller stopped")
        except (urllib.error.URLError, ConnectionError):
            pass
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
