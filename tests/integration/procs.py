"""bwm processes started by the runtime tests: signals, exit, peak memory, summary line.

Each process writes its stderr to a file (a pipe nobody drains would stall a
long run), so a failed test can show the end of it. A Fleet owns the
processes of one test and kills whatever still runs when the test ends, even
when an assertion failed.
"""
import os
import re
import signal
import subprocess
import time

from conftest import BWM


def wait_until(condition, timeout, what, poll=0.1):
    """Polls condition() until it returns something true, and returns that.

    On timeout fails naming what was awaited (what: text, or a function giving it then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what() if callable(what) else what}")
        time.sleep(poll)


class Proc:
    """One bwm process."""

    def __init__(self, stack, name, args, log, env=None):
        """Starts `bwm *args` (args[0] the subcommand) with the stack's environment, or env."""
        self.name = name
        self.log = log
        self.command = args[0]
        with open(self.log, "w") as err:
            self.popen = subprocess.Popen([BWM, *args], env=env or stack.run_env(),
                                          stdout=subprocess.DEVNULL, stderr=err)
        self.pid = self.popen.pid
        # The largest VmHWM (peak resident memory) read while waiting for the exit. It is
        # read from /proc rather than taken from wait4's ru_maxrss, which also counts the
        # memory of the forked test process before the exec.
        self.peak_rss_kb = 0
        self.cpu_s = None  # user + system CPU seconds, once it has exited (wait4)

    def alive(self):
        return self._reap(os.WNOHANG) is None

    def _reap(self, flags):
        if self.popen.returncode is not None:
            return self.popen.returncode
        pid, status, usage = os.wait4(self.pid, flags)
        if pid == 0:
            return None
        self.cpu_s = usage.ru_utime + usage.ru_stime
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        return self.popen.returncode

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def _sample_rss(self):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
        except OSError:
            pass
        return not self.alive()

    def wait(self, timeout):
        """Waits for the exit, reading the peak RSS meanwhile; returns the exit status
        (-N for signal N)."""
        wait_until(self._sample_rss, timeout,
                   lambda: f"{self.name} (pid {self.pid}) to exit\n{self.tail()}", poll=0.02)
        return self.popen.returncode

    def stop(self, timeout=60):
        """SIGTERM (drain and commit), then the exit status."""
        self.signal(signal.SIGTERM)
        return self.wait(timeout)

    def stderr(self):
        return self.log.read_text(errors="replace")

    def tail(self, lines=15):
        text = "\n".join(self.stderr().splitlines()[-lines:])
        return f"--- last lines of {self.name}'s stderr:\n{text}"

    def summary(self):
        """The counters of the final `bwm <command>: read N, applied N, ...` line."""
        prefix = f"bwm {self.command}: "
        lines = [ln for ln in self.stderr().splitlines() if ln.startswith(prefix + "read ")]
        assert lines, f"{self.name} printed no summary\n{self.tail()}"
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"([a-z][a-z -]*?) (\d+)(?=,)", lines[-1][len(prefix):])}


class Fleet:
    """The bwm processes of one test; leaving the block kills those still running."""

    def __init__(self, stack, log_dir):
        self.stack = stack
        self.log_dir = log_dir
        self.procs = []

    def start(self, name, *args):
        """Starts bwm with args; name tells the process apart in messages and names its log."""
        runs = sum(p.name == name for p in self.procs)
        log = self.log_dir / (f"{name}.log" if runs == 0 else f"{name}-{runs + 1}.log")
        proc = Proc(self.stack, name, args, log)
        self.procs.append(proc)
        return proc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.alive():
                os.kill(proc.pid, signal.SIGKILL)  # also ends a stopped process
                proc.wait(30)
        return False
