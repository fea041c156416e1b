"""Fixtures for the integration tests: a real local stack on free ports.

The session starts its own stack (Kafka broker, Redis, schema registry stub,
Core View stub) with deploy/local/stack, on ports nobody else uses, in a run
folder of its own, and stops it at the end even when tests fail.
"""
import os
import subprocess
import time
from pathlib import Path

import pytest

from kafkautil import Registry, close_clients
from stackutil import free_ports, read_env  # noqa: F401 (free_ports: for the tests too)

REPO = Path(__file__).resolve().parents[2]
BWM = os.environ.get("BWM_BIN", str(REPO / "build" / "bwm"))


def pytest_configure(config):
    # Show what tests print (seeds, records, timings, peak memory) even when they pass, so
    # that a CI log carries the figures.
    if "P" not in config.option.reportchars and "A" not in config.option.reportchars:
        config.option.reportchars += "P"


class Stack:
    def __init__(self, env):
        self.env = env
        self.bootstrap = env["BWM_KAFKA_BOOTSTRAP_SERVERS"]
        self.redis_port = int(env["BWM_STACK_REDIS_PORT"])
        self.registry_url = env["BWM_REGISTRY_URL"]
        self.registry = Registry(self.registry_url)

    def run_env(self):
        """The environment bwm runs with: the stack's addresses as BWM_<KEY> overrides."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BWM_")}
        env.update({k: v for k, v in self.env.items() if not k.startswith("BWM_STACK_")})
        return env

    def topic(self, name, partitions=4):
        subprocess.run([str(REPO / "deploy/local/stack"), "topic", name, str(partitions)],
                       env={**os.environ, **self.env}, check=True, capture_output=True, timeout=60)

    def restart(self, service):
        """Restarts kafka or redis with the same ports and data; returns the seconds it took."""
        started = time.monotonic()
        out = subprocess.run([str(REPO / "deploy/local/stack"), "restart", service],
                             env={**os.environ, **self.env}, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, f"stack restart {service}:\n{out.stdout}\n{out.stderr}"
        return time.monotonic() - started

    def redis(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.redis_port), *args], check=True,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip()

    def bwm(self, *args, timeout=300, check=False):
        return subprocess.run([BWM, *args], env=self.run_env(), capture_output=True, text=True,
                              timeout=timeout, check=check)

    def bwm_background(self, *args):
        return subprocess.Popen([BWM, *args], env=self.run_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    kafka, controller, redis, registry, coreview = free_ports(5)
    run_dir = REPO / ".run" / f"test-{os.getpid()}"
    env = {
        **os.environ,
        "BWM_STACK_DIR": str(run_dir),
        "BWM_STACK_KAFKA_PORT": str(kafka),
        "BWM_STACK_CONTROLLER_PORT": str(controller),
        "BWM_STACK_REDIS_PORT": str(redis),
        "BWM_STACK_REGISTRY_PORT": str(registry),
        "BWM_STACK_COREVIEW_PORT": str(coreview),
    }
    script = str(REPO / "deploy/local/stack")
    started = time.monotonic()
    up = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=300)
    if up.returncode != 0:
        subprocess.run([script, "down", "--purge"], env=env, capture_output=True, timeout=120)
        pytest.fail(f"stack up failed:\n{up.stdout}\n{up.stderr}")
    print(f"stack up in {time.monotonic() - started:.1f} s at {run_dir}")
    try:
        yield Stack(read_env(run_dir / "stack.env"))
    finally:
        close_clients()
        subprocess.run([script, "down", "--purge"], env=env, capture_output=True, timeout=120)
