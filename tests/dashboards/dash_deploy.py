#!/usr/bin/env python3
"""deploy/ checked with the tools that understand each file:
 - the Kubernetes DaemonSet against the API's JSON schemas of the npm package
   kubernetes-models (installed by this test into BUILD_DIR/npm-k8s, offline afterwards),
   plus the properties xsched needs (hostPID, /dev/shm hostPath, minimal capabilities);
 - the Prometheus configuration with `promtool check config`; the Kubernetes scrape job
   (Debian's promtool is built without Kubernetes discovery) by structure;
 - the systemd unit with `systemd-analyze verify` where systemd is present.

usage: dash_deploy.py BUILD_DIR SOURCE_DIR. Exit 0 passed, 1 failed."""
import os
import shutil
import subprocess
import sys
import json
import tempfile


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def npm_modules(build):
    prefix = os.path.join(build, "npm-k8s")
    mods = os.path.join(prefix, "node_modules")
    if not os.path.isdir(os.path.join(mods, "kubernetes-models")):
        if not shutil.which("npm"):
            fail("npm missing: needed once to install kubernetes-models")
        r = subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund",
                            "kubernetes-models@5.1.0", "js-yaml@4"],
                           capture_output=True, text=True, timeout=280)
        if r.returncode:
            fail("npm install kubernetes-models: " + r.stderr[-2000:])
    return mods


def load_yaml(build, src, path):
    """The YAML file's first document, parsed by js-yaml (installed with the validator)."""
    r = subprocess.run(["node", os.path.join(src, "tests", "dashboards", "k8s_validate.mjs"),
                        npm_modules(build), "--json", path], capture_output=True, text=True,
                       timeout=60, check=True)
    return json.loads(r.stdout)[0]


def k8s(build, src):
    ds_file = os.path.join(src, "deploy", "kubernetes", "xsched-daemonset.yaml")
    r = subprocess.run(["node", os.path.join(src, "tests", "dashboards", "k8s_validate.mjs"),
                        npm_modules(build), ds_file], capture_output=True, text=True,
                       timeout=120)
    print(r.stdout + r.stderr)
    if r.returncode:
        fail("DaemonSet does not validate against the Kubernetes schema")
    ds = load_yaml(build, src, ds_file)
    spec = ds["spec"]["template"]["spec"]
    if not spec.get("hostPID"):
        fail("DaemonSet without hostPID")
    shm = [v for v in spec["volumes"] if v.get("hostPath", {}).get("path") == "/dev/shm"]
    if not shm:
        fail("DaemonSet does not share the host's /dev/shm")
    c = spec["containers"][0]
    if not any(m["name"] == shm[0]["name"] and m["mountPath"] == "/dev/shm"
               for m in c["volumeMounts"]):
        fail("/dev/shm hostPath not mounted at /dev/shm")
    sc = c["securityContext"]
    caps = set(sc["capabilities"]["add"])
    if sc.get("privileged") or sc["capabilities"]["drop"] != ["ALL"]:
        fail("container privileged or keeps default capabilities")
    if not {"BPF", "PERFMON"} <= caps or caps & {"SYS_ADMIN", "NET_ADMIN"}:
        fail(f"capabilities {sorted(caps)}: want BPF and PERFMON, no SYS_ADMIN")


def prometheus(build, src):
    d = os.path.join(src, "deploy", "prometheus")
    r = subprocess.run(["promtool", "check", "config", os.path.join(d, "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    print(r.stdout + r.stderr)
    if r.returncode:
        fail("promtool check config")
    job = load_yaml(build, src, os.path.join(d, "kubernetes-scrape.yml"))["scrape_configs"][0]
    if job["kubernetes_sd_configs"][0]["role"] != "pod" or not any(
            rl.get("regex") == "xsched-ctl" and rl.get("action") == "keep"
            for rl in job["relabel_configs"]):
        fail("Kubernetes scrape job does not keep the xsched-ctl pods")


def systemd(build, src):
    unit = os.path.join(src, "deploy", "systemd", "xsched-ctl.service")
    with open(unit) as f:
        text = f.read()
    for key in ("CapabilityBoundingSet=CAP_BPF CAP_PERFMON", "ProtectSystem=strict",
                "NoNewPrivileges=yes", "ReadWritePaths=/dev/shm"):
        if key not in text:
            fail("unit lacks " + key)
    if not shutil.which("systemd-analyze"):
        print("systemd-analyze missing: unit checked by its keys only")
        return
    with tempfile.TemporaryDirectory() as tmp:
        # The unit names the installed binary; verify it against the one just built.
        path = os.path.join(tmp, "xsched-ctl.service")
        with open(path, "w") as f:
            f.write(text.replace("/usr/local/bin/xsched-ctl",
                                 os.path.join(os.path.abspath(build), "bin", "xsched-ctl")))
        r = subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                           text=True, timeout=60)
    print("systemd-analyze verify:", r.returncode, r.stdout + r.stderr)
    if r.returncode or "xsched-ctl.service" in r.stderr:
        fail("systemd-analyze verify")


def main():
    build, src = sys.argv[1], sys.argv[2]
    k8s(build, src)
    prometheus(build, src)
    systemd(build, src)
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
