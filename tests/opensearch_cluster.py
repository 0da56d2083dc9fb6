"""Local OpenSearch clusters for the tests, started by scripts/opensearch-local.sh on free ports.

`require_tools()` skips a test when java, javac, mvn, curl or setsid is missing (under CI=true it
fails instead); `local_cluster(state, nodes)` starts a cluster with its state in `state` and yields
its nodes, stopping it afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "opensearch-local.sh"
TOOLS = ("java", "javac", "mvn", "curl", "setsid")
START_SECONDS = 600  # the first start downloads the jars


@dataclass(frozen=True)
class Node:
    name: str
    url: str
    pid: int


def require_tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        reason = f"OpenSearch tests need {', '.join(missing)} (scripts/opensearch-local.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports on 127.0.0.1."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count < 65536 and all(_is_free(first + n) for n in range(1, count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def script(state: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENSEARCH_LOCAL_DIR": str(state)}
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout)


@contextmanager
def local_cluster(state: Path, nodes: int = 1) -> Iterator[list[Node]]:
    """A running cluster of `nodes` nodes (a failed start fails the test), stopped afterwards."""
    require_tools()
    http = free_ports(nodes)
    transport = free_ports(nodes)
    while abs(transport - http) < nodes:
        transport = free_ports(nodes)
    try:
        started = script(state, "start", "--nodes", str(nodes), "--http-port", str(http),
                         "--transport-port", str(transport), timeout=START_SECONDS)
        if started.returncode != 0:
            pytest.fail(f"scripts/opensearch-local.sh start failed:\n{started.stdout}\n{started.stderr}")
        lines = [line.split() for line in started.stdout.splitlines() if line.startswith("node-")]
        yield [Node(name, url, int(pid)) for name, url, _, pid in lines]
    finally:
        script(state, "stop")
