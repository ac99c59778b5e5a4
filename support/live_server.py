"""Start the real server as a separate process (uvicorn or the console command), for a test or
a benchmark."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from support import REPOSITORY_ROOT

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz within {STARTUP_SECONDS}s:\n{log.read_text()}")


@dataclass(frozen=True)
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def live_server(env: Mapping[str, str], log_dir: Path, command: Sequence[str] | None = None) -> Iterator[str]:
    """Run the server with `env` added to the environment; yield its base URL.

    `command` defaults to `uvicorn server:app`; "{port}" in it is replaced by a free port.
    """
    with live_server_process(env, log_dir, command) as server:
        yield server.url


@contextlib.contextmanager
def live_server_process(
    env: Mapping[str, str], log_dir: Path, command: Sequence[str] | None = None
) -> Iterator[LiveServer]:
    """As `live_server`, but yield the process too, for a test that kills it (SIGKILL) itself;
    a process that is already gone is left as it is on the way out."""
    port = free_port()
    argv = [
        part.replace("{port}", str(port))
        for part in command
        or [sys.executable, "-m", "uvicorn", "server:app", "--host", "127.0.0.1", "--port", "{port}", "--no-access-log"]
    ]
    log = log_dir / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, cwd=REPOSITORY_ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_healthy(url, process, log)
            yield LiveServer(url, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
