# SPDX-License-Identifier: MIT
"""xsched-ctl's command line: bad values are one line naming the value and what is accepted,
exit 2; --help and the command list exit 0. Needs no privileges.

usage: test_cli.py CTL"""

import subprocess
import sys

from obs_harness import check

# (arguments, what the message must name, what it must say is accepted)
BAD = [
    (["observe", "--interval", "1x"], "'1x'", "unit"),
    (["observe", "--interval", "5"], "'5'", "unit"),
    (["observe", "--duration", "-1s"], "'-1s'", "unit"),
    (["observe", "--interval", "1ms"], "'1ms'", "from 10ms"),
    (["observe", "--pid", "abc"], "'abc'", "whole number"),
    (["observe", "--pid", "0"], "'0'", "whole number"),
    (["observe", "--duration"], "--duration", "needs a value"),
    (["observe", "--frobnicate"], "--frobnicate", "--help"),
    (["frobnicate"], "frobnicate", "--help"),
]


def main():
    ctl = sys.argv[1]
    for args, named, accepted in BAD:
        p = subprocess.run([ctl] + args, capture_output=True, text=True, timeout=30)
        lines = p.stderr.strip().splitlines()
        check(p.returncode == 2 and len(lines) == 1 and named in lines[0] and
              accepted in lines[0], "%s -> exit 2, %r" % (" ".join(args), lines))
    p = subprocess.run([ctl], capture_output=True, text=True, timeout=30)
    check(p.returncode == 2 and "usage" in p.stderr, "no command -> usage on stderr, exit 2")
    for args in (["--help"], ["observe", "--help"]):
        p = subprocess.run([ctl] + args, capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "usage" in p.stdout, " ".join(args) + " -> usage, exit 0")


if __name__ == "__main__":
    main()
