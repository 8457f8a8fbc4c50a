"""The judge's side of the sandboxes: a pool of warm fork servers, one request at a time each.

``SandboxRequest`` is re-exported here: what callers build to run one submission."""

from __future__ import annotations

import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from grader.errors import GraderError
from grader.sandbox import protocol
from grader.sandbox.protocol import Cloned, CloneRequest, Hello, SandboxEnded, SandboxRequest

# What the sandboxes may inherit from the judge's environment: nothing secret.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")


class ForkServer:
    """One warm fork server: ``python -m grader.sandbox.forkserver``, or a clone of one."""

    def __init__(self, requests: BinaryIO, responses: BinaryIO, log: Path,
                 process: subprocess.Popen | None = None) -> None:
        self.requests, self.responses, self.log, self.process = requests, responses, log, process
        self._hello: Hello | None = None

    @property
    def hello(self) -> Hello:
        """What the server measured of its sandboxes: read when first asked (it is ready then)."""
        if self._hello is None:
            try:
                self._hello = protocol.decode(self._receive_line(), Hello)
            except ValueError:
                raise GraderError(f"the sandbox server did not start: see {self.log}") from None
        return self._hello

    @classmethod
    def start(cls, test_files: tuple[Path, ...], log: Path, namespaces: bool = True,
              preload: tuple[str, ...] = (), while_starting: Callable[[], None] | None = None,
              notebooks: bool = True, huge_pages: bool = False) -> ForkServer:
        """Start a server (without waiting for it: see :attr:`hello`); ``while_starting`` runs once
        its process is spawned. Without ``notebooks`` (none is graded) it does not warm up reading
        them. With ``huge_pages`` (a large class) its memory is moved into huge pages first."""
        env = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent.parent)  # holds grader/
        # Plots render headless; matplotlib's font cache is built once and kept between runs.
        env["MPLBACKEND"] = "Agg"
        env["MPLCONFIGDIR"] = str(Path(tempfile.gettempdir()) / f"grader-matplotlib-{os.getuid()}")
        process = subprocess.Popen(
            [sys.executable, "-m", "grader.sandbox.forkserver", *map(str, test_files),
             "--preload", ",".join(preload), *([] if namespaces else ["--no-namespaces"]),
             *([] if notebooks else ["--no-notebooks"]), *(["--huge-pages"] if huge_pages else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("ab"),
            env=env, cwd="/",
        )
        if while_starting is not None:
            while_starting()
        return cls(process.stdin, process.stdout, log, process)

    def clone(self, work: Path, name: str) -> ForkServer:
        """A copy of this warm server (forked: no second torch import), talking through FIFOs."""
        self.hello  # noqa: B018 - ready, before it is asked to fork
        fifos = {"input": work / f"{name}.in", "output": work / f"{name}.out"}
        for fifo in fifos.values():
            os.mkfifo(fifo, 0o600)
        self._send(CloneRequest(str(fifos["input"]), str(fifos["output"])))
        requests = open(fifos["input"], "wb", buffering=0)  # noqa: SIM115 - owned by the clone
        responses = open(fifos["output"], "rb")  # noqa: SIM115
        clone = ForkServer(requests, responses, self.log)
        clone.hello  # noqa: B018 - the clone's first words
        try:
            protocol.decode(self._receive_line(), Cloned)
        except ValueError:
            raise GraderError(f"the sandbox server could not be cloned: see {self.log}") from None
        return clone

    def run(self, request: SandboxRequest) -> SandboxEnded:
        self._send(request)
        ended = protocol.decode(self._receive_line(), SandboxEnded)
        ended.output = protocol.output_of(ended)  # the server spliced it: read here, never there
        ended.output_files = []
        return ended

    def _send(self, message: SandboxRequest | CloneRequest) -> None:
        try:
            self.requests.write(protocol.encode(message))
            self.requests.flush()
        except OSError:
            raise GraderError(f"the sandbox server stopped unexpectedly (log {self.log})") from None

    def _receive_line(self) -> bytes:
        line = self.responses.readline()
        if not line:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise GraderError(f"the sandbox server stopped unexpectedly (log {self.log}):\n{tail}")
        return line

    def close(self) -> None:
        """Ask the server to stop, and wait until it has removed what it created: it then closes
        its end (its own exit, tearing torch down, is not waited for; the system reaps it)."""
        try:
            self.requests.close()
        except OSError:
            pass
        if self.process is not None and self.process.poll() is None:
            if not _closed_within(self.responses, 5.0):
                self.process.kill()
            self.process.poll()


def _closed_within(stream: BinaryIO, seconds: float) -> bool:
    """Whether the other end of ``stream`` closes within ``seconds`` (what it still says is dropped)."""
    deadline = time.monotonic() + seconds
    fd = stream.fileno()
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready and not os.read(fd, 65536):
            return True
    return False


class SandboxPool:
    """``jobs`` fork servers: the first is spawned at once, and while it imports torch and measures
    its protections the caller goes on; the first use waits for it and clones it. ``run`` borrows
    a free one."""

    def __init__(self, test_files: tuple[Path, ...], jobs: int, log_dir: Path,
                 namespaces: bool = True, preload: tuple[str, ...] = (),
                 while_starting: Callable[[], None] | None = None, notebooks: bool = True,
                 huge_pages: bool = False) -> None:
        self.test_files, self.log_dir, self.jobs = test_files, log_dir, jobs
        self.allow_namespaces, self.preload, self.notebooks = namespaces, preload, notebooks
        self.free: queue.Queue[ForkServer] = queue.Queue()
        self.servers = [ForkServer.start(test_files, log_dir / "sandbox-server.log", namespaces,
                                         preload, while_starting, notebooks, huge_pages)]
        self._ready = threading.Lock()
        self._cloned = False

    def ready(self) -> SandboxPool:
        """Wait for the first server, then clone it ``jobs - 1`` times (once)."""
        with self._ready:
            if not self._cloned:
                first = self.servers[0]
                try:
                    first.hello  # noqa: B018
                    self.servers += [first.clone(self.log_dir, f"server-{i}") for i in range(1, self.jobs)]
                except BaseException:
                    self.close()
                    raise
                for server in self.servers:
                    self.free.put(server)
                self._cloned = True
        return self

    @property
    def hello(self) -> Hello:
        """What the first server measured of its sandboxes (waits for it)."""
        return self.servers[0].hello

    @property
    def namespaces(self) -> bool:
        return bool(self.servers and self.hello.namespaces)

    @property
    def namespaces_why(self) -> str:
        return self.hello.why if self.servers else ""

    @contextmanager
    def borrow(self) -> Iterator[ForkServer]:
        server = self.ready().free.get()
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
        replacement = ForkServer.start(self.test_files, old.log, self.allow_namespaces, self.preload,
                                       notebooks=self.notebooks)
        self.servers[self.servers.index(old)] = replacement
        return replacement

    def run(self, request: SandboxRequest) -> SandboxEnded:
        with self.borrow() as server:
            return server.run(request)

    def close(self) -> None:
        """Clones first: the first server waits for them before it removes the batch's cgroups."""
        for server in reversed(self.servers):
            server.close()


def measure_sandbox(namespaces: bool = True) -> Hello:
    """Start a warm server exactly as ``grader grade`` does (without tests) and return what it
    measured in a real sandbox: ``grader doctor`` and the tests ask this, so they cannot disagree
    with grading."""
    with tempfile.TemporaryDirectory(prefix="grader-measure-") as work:
        server = ForkServer.start((), Path(work) / "sandbox-server.log", namespaces)
        try:
            return server.hello
        finally:
            server.close()
