#!/usr/bin/env python3
"""The Grafana dashboard (dashboards/grafana/xsched.json) parses, has the structure Grafana
imports (title, uid, schemaVersion, panels with unique ids, grid positions, datasource and
targets), and its queries name only metrics the exporter emits: the metric families are
read from the exporter's own output (metrics_sample), histogram series included.

usage: dash_grafana.py BUILD_DIR SOURCE_DIR. Exit 0 passed, 1 failed."""
import json
import os
import re
import subprocess
import sys

PROMQL_WORDS = {"sum", "by", "rate", "histogram_quantile", "le", "label_values", "instance",
                "without", "avg", "max", "min", "irate", "increase", "on", "ignoring", "comm"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def emitted(build):
    out = subprocess.run([os.path.join(build, "bin", "metrics_sample")], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for m in re.finditer(r"^# TYPE (\S+) (\S+)$", out, re.M):
        names.add(m.group(1))
        if m.group(2) == "histogram":
            names |= {m.group(1) + s for s in ("_bucket", "_sum", "_count")}
    return names


def exprs(dash):
    for p in dash["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t["expr"]
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        yield "variable " + v["name"], q["query"] if isinstance(q, dict) else q


def main():
    build, src = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "dashboards", "grafana", "xsched.json")) as f:
        dash = json.load(f)
    names = emitted(build)
    for key in ("title", "uid", "schemaVersion", "panels"):
        if key not in dash:
            fail("dashboard lacks " + key)
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        fail("panel ids not unique")
    for p in dash["panels"]:
        for key in ("type", "title", "gridPos", "datasource", "targets"):
            if key not in p:
                fail(f"panel {p.get('title')} lacks {key}")
        g = p["gridPos"]
        if not (0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0):
            fail(f"panel {p['title']} outside the 24-column grid")
    used = set()
    for where, e in exprs(dash):
        # Identifiers outside label matchers and quoted strings, minus PromQL's own words.
        bare = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', " ", e)
        bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", bare)
        for ident in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare):
            if ident in PROMQL_WORDS or re.fullmatch(r"[0-9.]+", ident):
                continue
            if ident not in names:
                fail(f"{where}: '{ident}' is not a metric the exporter emits")
            used.add(ident)
    for needed in ("xsched_p99_seconds", "xsched_p99_target_seconds", "xsched_window_commands",
                   "xsched_completions_total", "xsched_controller_state"):
        if needed not in used:
            fail("no panel shows " + needed)
    print(f"{len(dash['panels'])} panels, metrics used: {', '.join(sorted(used))}")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
