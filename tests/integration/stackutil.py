"""What starting a local stack needs, shared by the integration tests' fixtures and the
benchmark driver (tests/bench/run_bench.py): free loopback ports and the stack's env file."""
import shlex
import socket
from pathlib import Path


def free_ports(n):
    """n distinct TCP ports free on 127.0.0.1 right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def read_env(path):
    """The KEY=value lines of a stack.env file (deploy/local/stack writes one) as a dict."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            env[k.strip()] = shlex.split(v)[0] if v.strip() else ""
    return env
