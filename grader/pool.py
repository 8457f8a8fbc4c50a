"""The judge's side of the sandboxes: a pool of warm fork servers, one request at a time each."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader.errors import GraderError

# What the sandboxes may inherit from the judge's environment: nothing secret.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


@dataclass(frozen=True)
class SandboxRequest:
    source: Path
    kind: str
    name: str
    result: Path
    timeout: float
    memory: int
    device: str
    hide: tuple[str, ...]
    file_bytes: int = 64 * 1024 * 1024
    scratch_bytes: int = 256 * 1024 * 1024

    def to_json(self) -> str:
        fields = {k: str(v) if isinstance(v, Path) else v for k, v in self.__dict__.items()}
        fields["hide"] = list(self.hide)
        return json.dumps(fields)


class ForkServer:
    """One warm ``python -m grader.forkserver`` process."""

    def __init__(self, test_files: tuple[Path, ...], log: Path) -> None:
        env = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.forkserver", *map(str, test_files)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("ab"),
            env=env, cwd="/",
        )
        self.hello = self._receive()
        if not self.hello.get("ready"):
            raise GraderError(f"the sandbox server did not start: see {log}")

    def run(self, request: SandboxRequest) -> dict:
        self.process.stdin.write(request.to_json().encode() + b"\n")
        self.process.stdin.flush()
        return self._receive()

    def _receive(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise GraderError(f"the sandbox server stopped unexpectedly (log {self.log}):\n{tail}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


class SandboxPool:
    """``jobs`` fork servers started together; ``run`` borrows a free one."""

    def __init__(self, test_files: tuple[Path, ...], jobs: int, log_dir: Path) -> None:
        self.test_files, self.log_dir = test_files, log_dir
        self.free: queue.Queue[ForkServer] = queue.Queue()
        self.servers: list[ForkServer] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def start(index: int) -> None:
            try:
                server = ForkServer(test_files, log_dir / f"sandbox-server-{index}.log")
                with lock:
                    self.servers.append(server)
                self.free.put(server)
            except BaseException as error:  # noqa: B036 - re-raised below
                errors.append(error)

        threads = [threading.Thread(target=start, args=(i,)) for i in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.close()
            raise errors[0]

    @property
    def namespaces(self) -> bool:
        return bool(self.servers and self.servers[0].hello.get("namespaces"))

    @property
    def namespaces_why(self) -> str:
        return str(self.servers[0].hello.get("why", "")) if self.servers else ""

    @contextmanager
    def borrow(self) -> Iterator[ForkServer]:
        server = self.free.get()
        healthy = True
        try:
            yield server
        except GraderError:
            healthy = False
            raise
        finally:
            if healthy:
                self.free.put(server)
            else:
                server.close()
                self.free.put(self._replacement(server))

    def _replacement(self, old: ForkServer) -> ForkServer:
        replacement = ForkServer(self.test_files, old.log)
        self.servers[self.servers.index(old)] = replacement
        return replacement

    def run(self, request: SandboxRequest) -> dict:
        with self.borrow() as server:
            return server.run(request)

    def close(self) -> None:
        for server in self.servers:
            server.close()
