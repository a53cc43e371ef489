# SPDX-License-Identifier: MIT
"""Without privileges the observer says, in one line, what is missing, and exits 3: as root
with every capability dropped, and as an unprivileged user.

usage: test_privileges.py CTL"""

import os
import shutil
import subprocess
import sys
import tempfile

from obs_harness import check, need_root

DROP = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]


def expect_missing(argv, what):
    p = subprocess.run(argv + ["observe", "--duration", "1s"], capture_output=True, text=True,
                       timeout=60)
    lines = p.stderr.strip().splitlines()
    print("%s: rc=%d stderr=%r" % (what, p.returncode, p.stderr.strip()))
    check(p.returncode == 3, what + ": exit status 3")
    check(len(lines) == 1 and "missing privileges" in lines[0] and "CAP_BPF" in lines[0],
          what + ": one line naming the missing capabilities")
    check(p.stdout == "", what + ": nothing on stdout")


def main():
    ctl = sys.argv[1]
    need_root()
    if not shutil.which("setpriv"):
        print("FAIL: setpriv (util-linux) is needed to drop capabilities")
        sys.exit(1)
    expect_missing(DROP + [ctl], "root without capabilities")
    # A copy the unprivileged user can reach, wherever the build tree is.
    tmp = tempfile.mkdtemp(prefix="xobs-priv-")
    try:
        os.chmod(tmp, 0o755)
        copy = os.path.join(tmp, "xsched-ctl")
        shutil.copy(ctl, copy)
        os.chmod(copy, 0o755)
        expect_missing(DROP + ["--reuid=65534", "--regid=65534", "--clear-groups", copy],
                       "user nobody")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
