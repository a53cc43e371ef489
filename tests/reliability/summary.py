#!/usr/bin/env python3
"""The reliability suite's summary table (issue 9), printed at the end of `make test`.

usage: summary.py BUILD_DIR

Reads the JSON results the reliability tests and the bad-input sweep leave in
BUILD_DIR/reliability/ (see relcommon.py), and the inputs the fuzzers executed from the last
ctest log (libFuzzer's stat::number_executed_units, with -print_final_stats=1). Prints one
row per test and a total: faults injected, processes, commands checked, inputs tried,
failures. Exit 1 when a result reports failures or none was found, else 0.
"""
import glob
import json
import os
import re
import sys

COLS = ("faults", "processes", "commands", "inputs", "failures")


def fuzz_rows(build):
    """One row per fuzzer from the ctest log that ran them: inputs executed, and a failure
    when its test failed (a crash, a leak, UB)."""
    rows = {}
    for log in glob.glob(os.path.join(build, "Testing", "Temporary", "LastTest*.log")):
        with open(log, errors="replace") as f:
            text = f.read()
        for block in re.split(r"\n\d+/\d+ Testing: ", text)[1:]:
            name = block.split("\n", 1)[0].strip()
            if not name.startswith("fuzz_"):
                continue
            runs = re.findall(r"stat::number_executed_units: (\d+)", block)
            rows[name] = {"suite": "fuzz", "test": name, "faults": 0, "processes": 0,
                          "commands": 0, "inputs": sum(int(x) for x in runs),
                          "failures": 0 if "\nTest Passed." in block else 1}
    return list(rows.values())


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    build = sys.argv[1]
    rows = []
    for path in sorted(glob.glob(os.path.join(build, "reliability", "*.json"))):
        with open(path) as f:
            rows.append(json.load(f))
    rows += fuzz_rows(build)
    if not rows:
        print(f"summary: no results in {build}/reliability (did the tests run?)")
        return 1
    print("\nreliability summary")
    print("%-10s %-26s" % ("suite", "test") + "".join("%11s" % c for c in COLS))
    total = dict.fromkeys(COLS, 0)
    for r in rows:
        print("%-10s %-26s" % (r["suite"], r["test"]) + "".join("%11d" % r[c] for c in COLS))
        for c in COLS:
            total[c] += r[c]
    print("%-10s %-26s" % ("total", "") + "".join("%11d" % total[c] for c in COLS))
    return 1 if total["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
