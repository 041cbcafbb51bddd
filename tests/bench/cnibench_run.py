#!/usr/bin/env python3
"""Runs cnibench.py unchanged, with exact child-exit detection.

usage: cnibench_run.py /path/to/cnibench.py [cnibench args...]

cnibench times every plugin exec around subprocess.run(..., timeout=T). With a timeout, CPython's
Popen.wait() does not block in waitpid: it polls with WNOHANG and sleeps 0.5, 1, 2, 4 ... ms in
between, so a measured exec is rounded up to the next poll: a 1.2 ms plugin reads as 2.2 ms. That
adds up to ~1-3 ms to every exec, which flattens ratios between fast plugins (tether-ipam vs
host-local). Here Popen._wait with a timeout waits on a pidfd instead (poll() with the same
timeout, then the blocking reap), so the measured time ends when the child exits. Both plugin
sets get the same treatment; without pidfd support (Linux < 5.3) the stock wait is used.
"""
import os
import runpy
import select
import subprocess
import sys

_stock_wait = subprocess.Popen._wait


def _pidfd_wait(self, timeout):
    if self.returncode is not None or timeout is None or not hasattr(os, "pidfd_open"):
        return _stock_wait(self, timeout)
    try:
        fd = os.pidfd_open(self.pid)
    except OSError:
        return _stock_wait(self, timeout)
    try:
        p = select.poll()
        p.register(fd, select.POLLIN)
        if not p.poll(max(0.0, timeout) * 1000):
            raise subprocess.TimeoutExpired(self.args, timeout)
    finally:
        os.close(fd)
    return _stock_wait(self, None)  # the child has exited: this reaps it without sleeping


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    subprocess.Popen._wait = _pidfd_wait
    path = sys.argv[1]
    sys.argv = [path] + sys.argv[2:]
    runpy.run_path(path, run_name="__main__")


if __name__ == "__main__":
    main()
