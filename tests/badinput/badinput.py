#!/usr/bin/env python3
"""Bad input sweep (issue 9): every command-line entry point and every config file key, given
wrong types, units, ranges and sizes, must fail with exit code 2 and exactly one line on
stderr that names the bad value (or, where a value is missing, the option that lacks it).

usage: badinput.py BUILD_DIR

Entry points: xsched-ctl run / status / set / observe / top, `xsched-ctl --p99-target ...`,
the config file through `xsched-ctl run --config FILE`, xsched-run and simgpu. Nothing here
reaches a daemon or a device: every input is refused while the arguments are parsed (a
command that is still running after a few seconds accepted its input and counts as failed).
Prints a summary table (entry point, inputs tried, failures). Exit 0 passed, 1 failed.
"""
import json
import os
import subprocess
import sys
import tempfile

BIG = "9" * 10240  # a 10 kB argument


def cases(tmp):
    """(entry point, argv after the program, text the error line must contain)."""
    c = []

    def add(entry, argv, names):
        c.append((entry, argv, names))

    # xsched-ctl run: every option with a wrong type, unit, range or size.
    for flag, vals in [
        ("--p99-target", ["10", "-1ms", "10parsecs", "0ms", "2h", "1e3ms", "inf", "0x10ms",
                          "5us", "3601s", " 10ms", "10 ms", "ten", BIG + "ms"]),
        ("--interval", ["0", "0ms", "11s", "-5ms", "500us", "20", "fast"]),
        ("--p99-window", ["5ms", "11min", "1", "-1s", "forever"]),
        ("--window-max", ["-3", "0", "2147483647", "lots", "1.5", "64k", BIG]),
        ("--turns", ["5ms", "11s", "on", "100", "-1s", "OFF"]),
        ("--max-priority", ["urgent", "8", "-1", "HIGH", "1.0"]),
        ("--allowance", ["-1ms", "11s", "2", "fast", "AUTO", "1e3ms"]),
        ("--target", ["foo", "foo=10", "=5ms", "foo=-1ms", "foo=bar"]),
        ("--metrics", ["nope", ":0", ":70000", "host:", "host:port"]),
    ]:
        for v in vals:
            add("xsched-ctl run", ["run", flag, v], v)
        add("xsched-ctl run", ["run", flag], flag)  # missing value
    add("xsched-ctl run", ["run", "--p99-target=10"], "'10'")
    add("xsched-ctl run", ["run", "--p99-target", "10ms", "--bogus"], "--bogus")
    add("xsched-ctl run", ["run", "-x"], "-x")
    add("xsched-ctl run", ["run", "--p99-target", "10ms", "stray"], "stray")
    add("xsched-ctl run", ["run", "--" + BIG], BIG)
    add("xsched-ctl run", ["run"], "--p99-target")  # no target at all
    add("xsched-ctl run", ["run", "--config", os.path.join(tmp, "absent.conf")], "absent.conf")
    # The same parser behind the shorthand `xsched-ctl --p99-target DUR`.
    for v in ["10", "-1ms", "10parsecs", "0s", BIG]:
        add("xsched-ctl --p99-target", ["--p99-target", v], v)
        add("xsched-ctl --p99-target", ["--p99-target=" + v], v)
    add("xsched-ctl --p99-target", ["--p99-target"], "--p99-target")
    add("xsched-ctl --p99-target", ["--p99-target", "10ms", "--interval", "0"], "'0'")
    add("xsched-ctl", ["frobnicate"], "frobnicate")
    add("xsched-ctl", ["--bogus"], "--bogus")
    add("xsched-ctl", [BIG], BIG)
    add("xsched-ctl", [], "command")

    # Config file keys, through --config.
    lines = [
        ("p99-target 10", "'10'"), ("p99-target -1ms", "'-1ms'"),
        ("p99-target 10parsecs", "'10parsecs'"), ("p99-target", "p99-target"),
        ("p99-target 10ms extra", "'extra'"), ("interval 0", "'0'"),
        ("interval 0ms", "'0ms'"), ("interval 11s", "'11s'"), ("p99-window 5ms", "'5ms'"),
        ("window-max -3", "'-3'"), ("window-max 0", "'0'"), ("window-max lots", "'lots'"),
        ("turns 5ms", "'5ms'"), ("turns always", "'always'"),
        ("max-priority urgent", "'urgent'"), ("max-priority 8", "'8'"),
        ("allowance 11s", "'11s'"), ("allowance manual", "'manual'"),
        ("bogus-key 3", "'bogus-key'"), ("P99-TARGET 10ms", "'P99-TARGET'"),
        ("rule", "rule"), ("rule comm=x target=10", "target=10"),
        ("rule bogus=1", "bogus=1"), ("rule comm=x priority=urgent", "priority=urgent"),
        ("rule comm=x window=-3", "window=-3"), ("rule uid=abc", "uid=abc"),
        ("p99-target " + BIG[:900] + "ms", BIG[:900]),
        ("p99-target " + BIG + "ms", "cfg-"),  # longer than a line may be: named by place
    ]
    for i, (line, names) in enumerate(lines):
        path = os.path.join(tmp, "cfg-%d.conf" % i)
        with open(path, "w") as f:
            f.write("# bad input sweep\ninterval 20ms\n" + line + "\n")
        add("config --config", ["run", "--config", path], names)
    path = os.path.join(tmp, "cfg-binary.conf")
    with open(path, "wb") as f:
        f.write(b"p99-target \xff\xfe\x01ms\n")
    add("config --config", ["run", "--config", path], "p99-target")

    # xsched-ctl status / set / observe / top.
    add("xsched-ctl status", ["status", "--bogus"], "--bogus")
    add("xsched-ctl status", ["status", "--json=1"], "--json=1")
    add("xsched-ctl status", ["status", "extra"], "extra")
    add("xsched-ctl status", ["status", BIG], BIG)
    for argv, names in [
        (["abc", "--priority", "high"], "abc"), (["0", "--priority", "high"], "'0'"),
        (["-5", "--priority", "high"], "-5"), (["99999999", "--priority", "high"], "99999999"),
        (["1", "--priority", "urgent"], "urgent"), (["1", "--priority", "8"], "'8'"),
        (["1", "--window", "-3"], "-3"), (["1", "--window", "lots"], "lots"),
        (["1", "--window", BIG], BIG), (["--p99-target", "10"], "'10'"),
        (["--p99-target", "-1ms"], "-1ms"), (["--p99-target", "10parsecs"], "10parsecs"),
        (["1", "--priority"], "--priority"), (["1", "--window"], "--window"),
        (["--p99-target"], "--p99-target"), (["1", "--bogus"], "--bogus"),
        (["1"], "--priority"), (["--priority", "high"], "PID"),
        (["1", "2", "--priority", "high"], "'2'"), ([BIG, "--window", "4"], BIG),
        (["--allowance", "-2ms"], "-2ms"), (["--allowance", "11s"], "'11s'"),
        (["--allowance"], "--allowance"), (["1", "--allowance", "2ms"], "--allowance"),
    ]:
        add("xsched-ctl set", ["set"] + argv, names)
    for argv, names in [
        (["--interval", "0"], "'0'"), (["--interval", "10"], "'10'"),
        (["--interval", "10parsecs"], "10parsecs"), (["--duration", "-1s"], "-1s"),
        (["--pid", "abc"], "abc"), (["--pid", "0"], "'0'"), (["--pid", BIG], BIG),
        (["--interval"], "--interval"), (["--pid"], "--pid"), (["--bogus"], "--bogus"),
    ]:
        add("xsched-ctl observe", ["observe"] + argv, names)
    for argv, names in [
        (["--interval", "0"], "'0'"), (["--interval", "10"], "'10'"),
        (["--interval", "-1ms"], "-1ms"), (["--interval", "10parsecs"], "10parsecs"),
        (["--interval", BIG], BIG), (["--interval"], "--interval"), (["--bogus"], "--bogus"),
    ]:
        add("xsched-ctl top", ["top"] + argv, names)

    # xsched-run.
    for argv, names in [
        (["--priority", "urgent"], "urgent"), (["--priority", "8"], "'8'"),
        (["--priority", "-1"], "-1"), (["--window", "-3"], "-3"), (["--window", "lots"], "lots"),
        (["--window", "0x10"], "0x10"), (["--window", BIG], BIG), (["--log", "loud"], "loud"),
        (["--shm", "../x"], "../x"), (["--shm", "x" * 100], "x" * 100),
        (["--shm", BIG], BIG), (["--priority=urgent"], "urgent"), (["--bogus"], "--bogus"),
        (["--priority"], "--priority"), (["--window"], "--window"), (["--log"], "--log"),
        (["--mps-priority", "always"], "always"), (["--stream-priority", "high"], "high"),
        (["--cu-mask", "1.5"], "1.5"), (["--cu-mask", "0x0"], "0x0"),
        (["--cu-mask", "0xfoo"], "0xfoo"), (["--cu-mask"], "--cu-mask"),
    ]:
        add("xsched-run", argv + ["true"] if len(argv) > 1 or "=" in argv[0] or
            argv[0] == "--bogus" else argv, names)
    add("xsched-run", [], "command")
    add("xsched-run", ["--priority", "high"], "command")

    # simgpu.
    for argv, names in [
        (["create", "--mode", "warp"], "warp"), (["create", "--devices", "0"], "'0'"),
        (["create", "--devices", "5"], "'5'"), (["create", "--devices", "-1"], "-1"),
        (["create", "--devices", "two"], "two"), (["create", "--devices", BIG], BIG),
        (["create", "--slice-us", "0"], "'0'"), (["create", "--slice-us", "1ms"], "1ms"),
        (["create", "--slice-us", "2000000"], "2000000"), (["create", "--bogus"], "--bogus"),
        (["create", "--mode"], "--mode"), (["stats", "--pid", "abc"], "abc"),
        (["stats", "--pid", "0"], "'0'"), (["stats", "--pid"], "--pid"),
        (["stats", "--bogus"], "--bogus"), (["destroy", "extra"], "extra"),
        (["frobnicate"], "frobnicate"), ([BIG], BIG), ([], "missing command"),
    ]:
        add("simgpu", argv, names)
    return c


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    progs = {
        "xsched-ctl": os.path.join(build, "bin", "xsched-ctl"),
        "xsched-run": os.path.join(build, "bin", "xsched-run"),
        "simgpu": os.path.join(build, "bin", "simgpu"),
    }
    for p in progs.values():
        if not os.access(p, os.X_OK):
            print("badinput: %s is not built" % p, file=sys.stderr)
            return 1
    env = dict(os.environ)
    # Names nobody uses: an input wrongly accepted cannot touch a real segment.
    env["XSCHED_SHM"] = "xsched-badinput-%d" % os.getpid()
    env["XSCHED_SIM_NAME"] = "xsched-badinput-sim-%d" % os.getpid()
    for k in ["XSCHED_PRIORITY", "XSCHED_WINDOW", "XSCHED_LOG", "XSCHED_SIM_MODE",
              "XSCHED_SIM_DEVICES", "XSCHED_SIM_SLICE_US"]:
        env.pop(k, None)

    rows, failures = {}, []
    with tempfile.TemporaryDirectory(prefix="xsched-badinput-") as tmp:
        for entry, argv, names in cases(tmp):
            prog = progs["simgpu" if entry == "simgpu" else
                         "xsched-run" if entry == "xsched-run" else "xsched-ctl"]
            why = None
            try:
                r = subprocess.run([prog] + argv, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=10)
                err = r.stderr.decode("utf-8", "replace")
                if r.returncode != 2:
                    why = "exit %d, expected 2" % r.returncode
                elif err.count("\n") != 1 or not err.endswith("\n"):
                    why = "%d lines on stderr, expected 1" % err.count("\n")
                elif names not in err:
                    why = "the error does not name %r" % names[:60]
            except subprocess.TimeoutExpired:
                why = "still running after 10 s (input accepted)"
                err = ""
            tried, failed = rows.get(entry, (0, 0))
            rows[entry] = (tried + 1, failed + (why is not None))
            shown = " ".join(a if len(a) <= 40 else a[:12] + "...(%d chars)" % len(a)
                             for a in argv)
            if why:
                failures.append((entry, shown, why, err.strip()[:200]))
    subprocess.run([progs["simgpu"], "destroy"], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

    for entry, shown, why, err in failures:
        print("FAIL: %s [%s]: %s\n      stderr: %s" % (entry, shown, why, err))
    print()
    print("%-26s %8s %9s" % ("entry point", "inputs", "failures"))
    total = [0, 0]
    for entry, (tried, failed) in rows.items():
        print("%-26s %8d %9d" % (entry, tried, failed))
        total[0] += tried
        total[1] += failed
    print("%-26s %8d %9d" % ("total", total[0], total[1]))
    # For the reliability summary table (tests/reliability/summary.py).
    os.makedirs(os.path.join(build, "reliability"), exist_ok=True)
    with open(os.path.join(build, "reliability", "badinput.json"), "w") as f:
        json.dump({"suite": "badinput", "test": "badinput_sweep", "faults": 0, "processes": 0,
                   "commands": 0, "inputs": total[0], "failures": total[1]}, f)
        f.write("\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
