"""The allocator bwm runs with: a release build links jemalloc and configures it
from cmd/allocator.h (README, "Allocator"); MALLOC_CONF overrides it.

jemalloc prints its options at exit with MALLOC_CONF=stats_print:true. An
ASan+UBSan build keeps the sanitizer's allocator, so these tests skip it.
"""
import os
import re
import subprocess

import pytest

from conftest import BWM, REPO


def needed_libraries(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out.stdout)


def jemalloc_options(extra_conf=None):
    conf = "stats_print:true" + (f",{extra_conf}" if extra_conf else "")
    env = {**os.environ, "MALLOC_CONF": conf}
    r = subprocess.run([BWM, "help"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return dict(re.findall(r"^\s+opt\.(\w+): (\S+)", r.stdout + r.stderr, re.M))


@pytest.fixture(scope="module")
def release_build():
    libs = needed_libraries(BWM)
    if any(lib.startswith("libasan") for lib in libs):
        pytest.skip("an ASan+UBSan build keeps the sanitizer's allocator")
    return libs


def test_a_release_build_links_jemalloc(release_build):
    assert "libjemalloc.so.2" in release_build, release_build
    # Before libc, so that librdkafka's allocations go to jemalloc too.
    assert release_build.index("libjemalloc.so.2") < release_build.index("libc.so.6")


def test_jemalloc_takes_the_settings_of_allocator_h(release_build):
    header = (REPO / "cmd" / "allocator.h").read_text()
    conf = re.search(r'#define BWM_MALLOC_CONF "([^"]+)"', header).group(1)
    wanted = dict(kv.split(":") for kv in conf.split(","))
    opts = jemalloc_options()
    print("jemalloc options:", {k: opts.get(k) for k in wanted})
    assert wanted == {k: opts.get(k) for k in wanted}


def test_malloc_conf_overrides_them(release_build):
    assert jemalloc_options("narenas:3")["narenas"] == "3"
