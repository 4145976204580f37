"""Run one untrusted command in a sandbox, with limits the command cannot lift.

With bubblewrap (``bwrap``, Linux) the command runs as an unprivileged user with no capabilities and
sees a read-only system, a private ``/tmp``, no network
(only an empty loopback), its own PID namespace (so killing it kills every process it started, even
one that called ``setsid``) and one writable folder; the submissions, the grader's output, the
solutions and the grader's home folder are hidden (:func:`layout`), and the grader checks that this view
can be set up before it grades anything (:func:`preflight`). Without bubblewrap the fallback is weaker: a new
session killed as a process group, resource limits, and ``unshare -n`` for the network where allowed;
:func:`isolation` says which one is in use and the grader warns about the fallback.

In both cases: an address-space and file-size limit (``setrlimit``, set before the command starts), a
watch on the resident memory of the whole process tree, an output cap (the rest is counted and
dropped), a per-cell timeout read from the kernel's progress file, and a deadline. Any limit reached
means ``SIGKILL`` for the whole tree.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

_LAUNCHER = """\
import os, resource, signal, sys
address_space, file_size = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
os.execv(sys.argv[3], sys.argv[3:])
"""
"""Sets the limits in the sandboxed process itself, then becomes the command (thread-safe, unlike preexec_fn)."""

ADDRESS_SPACE_HEADROOM_MB = 4096
"""Virtual memory allowed above the resident-memory cap: TensorFlow reserves about 2.6 GB it never touches."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. The defaults suit Lab 1 on a laptop with 2 cores."""

    deadline_s: float = 180.0
    cell_timeout_s: float = 60.0
    memory_mb: int = 3072
    output_bytes: int = 200_000
    file_mb: int = 256
    grace_s: float = 3.0
    """After a cell's own timeout (an exception raised in it), how long before the kill."""


@dataclass
class RunResult:
    """How a sandboxed run ended."""

    returncode: int | None
    killed_for: str | None
    """``"deadline"``, ``"cell_timeout"`` or ``"memory"`` when the grader killed the run, else ``None``."""
    output: str
    output_dropped: int
    seconds: float
    peak_memory_mb: float
    isolation: str
    events: list[dict] = field(default_factory=list)

    @property
    def started(self) -> bool:
        """Whether the kernel reported ``ready``: the sandbox and the kernel started, before any cell ran."""
        return any(event.get("event") == "ready" for event in self.events)


@functools.lru_cache(maxsize=1)
def isolation() -> str:
    """``"bubblewrap"`` when bwrap works here; otherwise a description of the weaker fallback."""
    if sys.platform.startswith("linux") and shutil.which("bwrap"):
        probe = subprocess.run(["bwrap", *_BWRAP_BASE, "true"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return "bubblewrap"
    if sys.platform.startswith("linux") and shutil.which("unshare"):
        for flags in (["-n"], ["-rn"]):
            probe = subprocess.run(["unshare", *flags, "true"], capture_output=True, timeout=30)
            if probe.returncode == 0:
                return f"fallback: unshare {' '.join(flags)} (no network), rlimits, process-group kill"
    return "fallback: rlimits and process-group kill only (network NOT blocked)"


FALLBACK_WARNING = ("bubblewrap (bwrap) is not available: submissions run with resource limits and a "
                    "process-group kill only, can read files this user can read, and a process that "
                    "leaves its session can outlive the run. Install it (Debian/Ubuntu: `apt-get "
                    "install bubblewrap`) before grading real submissions.")

_BWRAP_BASE = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--unshare-pid",
               "--unshare-ipc", "--unshare-uts", "--unshare-user", "--uid", "65534", "--gid", "65534",
               "--cap-drop", "ALL", "--die-with-parent", "--new-session"]
"""Run by root, bwrap would keep root's capabilities unless told otherwise: the command runs as an
unprivileged user (65534) of its own user namespace, with no capabilities."""


def python_paths() -> list[Path]:
    """The folders this Python needs (venv, base installation), to keep visible inside the sandbox."""
    executable = Path(sys.executable).resolve()
    return sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.exec_prefix).resolve(),
                   executable.parent.parent})


def kit_paths() -> list[Path]:
    """What a grading kernel needs to see besides Python: the ``labkit`` package (with its data sample)."""
    return [Path(__file__).resolve().parents[1]]


def layout(workdir: Path, hide: list[Path], expose: list[Path]) -> list[tuple[str, Path]]:
    """The mounts that give the sandbox its view of the file system, as ``(kind, folder)`` in mount order.

    ``kind`` is ``"hide"`` (an empty tmpfs), ``"expose"`` (a read-only bind) or ``"bind"`` (the writable
    work folder). The system starts visible and read-only; ``/tmp`` and the home folder are hidden, then
    ``hide``, ``expose`` and ``workdir`` apply, deepest last, so that the rule nearest a path decides it.
    A rule that changes nothing (a hidden folder inside a hidden one, an exposed folder in a visible one)
    is dropped: mounting it would fail once its parent is covered. Where a folder is both hidden and
    exposed, it is hidden.
    """
    rules: dict[Path, str] = {}
    for path in expose:
        rules[path] = "expose"
    home = Path.home().resolve()
    for path in [Path("/tmp"), home, *hide]:
        rules[path] = "hide"
    rules[workdir] = "bind"
    mounts, decided = [], {Path("/"): "expose"}
    for path in sorted(rules, key=lambda p: (len(p.parts), str(p))):
        if path == Path("/") or not path.is_dir():
            continue
        kind = rules[path]
        inherited = next(decided[parent] for parent in path.parents if parent in decided)
        if kind == "bind" or kind != inherited:
            mounts.append((kind, path))
            decided[path] = kind
    return mounts


def _wrap(argv: list[str], workdir: Path, limits: Limits, hide: list[Path], expose: list[Path]) -> list[str]:
    address_space = (limits.memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 2**20
    launched = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(address_space),
                str(limits.file_mb * 2**20), *argv]
    method = isolation()
    if method == "bubblewrap":
        command = ["bwrap", *_BWRAP_BASE]
        mounts = layout(workdir, hide, expose)
        for kind, path in mounts:
            if kind == "hide":
                command += ["--size", str(256 * 2**20), "--tmpfs", str(path)]
            else:
                command += ["--ro-bind" if kind == "expose" else "--bind", str(path), str(path)]
        command += ["--chdir", str(workdir)]
        for kind, path in mounts:  # last: bwrap cannot create mount points in a read-only folder
            if kind == "hide" and path != Path("/tmp"):
                command += ["--remount-ro", str(path)]
        return command + launched
    if method.startswith("fallback: unshare"):
        return ["unshare", method.split()[2], *launched]
    return launched


class SandboxError(Exception):
    """The sandbox itself could not start: the grader's problem (a folder layout, bubblewrap), never the
    student's; grading stops rather than record a failure the student did not cause."""


def preflight(*, hide: list[Path] = (), expose: list[Path] = (), env: dict[str, str] | None = None) -> None:
    """Start the sandbox once, with the folders a grading run will hide and expose, and import the kernel.

    Raises :class:`SandboxError` with what bubblewrap (or Python) said when that fails.
    """
    with tempfile.TemporaryDirectory(prefix="labkit-preflight-") as folder:
        result = run([sys.executable, "-I", "-c", "import labkit.grading.kernel; print('sandbox ready')"],
                     workdir=Path(folder), env=env or {"PATH": "/usr/bin:/bin", "HOME": folder},
                     limits=Limits(deadline_s=60), hide=hide, expose=expose)
    if "sandbox ready" not in result.output:
        said = result.output.strip()[-600:] or f"no output, exit code {result.returncode}"
        raise SandboxError(f"the sandbox ({result.isolation}) could not start a grading kernel: {said}")


def run(argv: list[str], *, workdir: Path, env: dict[str, str], limits: Limits,
        progress: Path | None = None, timeouts: list[float] = (), hide: list[Path] = (),
        expose: list[Path] = ()) -> RunResult:
    """Run ``argv`` in ``workdir`` under ``limits``; never raises for anything the command does.

    ``progress`` is the kernel's JSON-lines file of ``{"event": "ready"}`` then ``{"cell": i, "event":
    "start"|"end"}`` records: a cell that has not ended ``grace_s`` after its timeout (``timeouts[i]``,
    else ``cell_timeout_s``) gets the run killed. ``hide`` folders look empty (or missing) inside the
    sandbox; ``expose`` folders stay visible even inside a hidden one (see :func:`layout`).
    """
    workdir = Path(workdir).resolve()
    command = _wrap(argv, workdir, limits, [Path(p).resolve() for p in hide],
                    [Path(p).resolve() for p in expose])
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    output, dropped = bytearray(), 0
    watch = _ProgressWatch(progress)
    killed_for, peak, next_memory_check = None, 0.0, 0.0
    fd = process.stdout.fileno()
    open_pipe = True
    try:
        while True:
            if open_pipe:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if ready:
                    chunk = os.read(fd, 1 << 16)
                    if not chunk:
                        open_pipe = False
                    else:
                        room = max(0, limits.output_bytes - len(output))
                        output += chunk[:room]
                        dropped += len(chunk) - min(room, len(chunk))
            else:
                time.sleep(0.1)
            if _exited(process.pid):
                if not open_pipe or killed_for:
                    break
                _drain(fd, time.monotonic() + 1.0)
                break
            now = time.monotonic()
            watch.update(now)
            if killed_for is None:
                if now - started > limits.deadline_s:
                    killed_for = "deadline"
                elif watch.running_for(now) > _timeout(watch.current, timeouts, limits) + limits.grace_s:
                    killed_for = "cell_timeout"
                elif now >= next_memory_check:
                    next_memory_check = now + 0.25
                    used = _tree_memory_mb(process.pid)
                    peak = max(peak, used)
                    if used > limits.memory_mb:
                        killed_for = "memory"
                if killed_for:
                    _kill_tree(process.pid)
    finally:
        _kill_tree(process.pid)  # before reaping it, so that its pid cannot have been reused
        process.stdout.close()
        process.wait()
    watch.update(time.monotonic())
    return RunResult(returncode=process.returncode, killed_for=killed_for,
                     output=output.decode("utf-8", errors="replace"), output_dropped=dropped,
                     seconds=time.monotonic() - started, peak_memory_mb=peak, isolation=isolation(),
                     events=watch.events)


def _timeout(cell: int | None, timeouts: list[float], limits: Limits) -> float:
    return timeouts[cell] if cell is not None and 0 <= cell < len(timeouts) else limits.cell_timeout_s


def _exited(pid: int) -> bool:
    """Whether the process has ended, without reaping it (its pid stays reserved until ``wait``)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _drain(fd: int, until: float) -> None:
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready and not os.read(fd, 1 << 16):
            return


class _ProgressWatch:
    """Follows the kernel's progress file: which cell is running, and since when (grader's clock)."""

    MAX_BYTES = 4 * 2**20

    def __init__(self, path: Path | None):
        self.path, self.offset, self.buffer = path, 0, b""
        self.events: list[dict] = []
        self.current: int | None = None
        self.since = 0.0

    def update(self, now: float) -> None:
        if self.path is None or self.offset >= self.MAX_BYTES:
            return
        try:  # the kernel's folder is writable by the submission: refuse links, pipes and devices
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return
            os.lseek(fd, self.offset, os.SEEK_SET)
            data = os.read(fd, self.MAX_BYTES - self.offset)
        except OSError:
            return
        finally:
            os.close(fd)
        self.offset += len(data)
        *lines, self.buffer = (self.buffer + data).split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
                kind = str(event["event"])
                cell = None if kind == "ready" else int(event["cell"])
            except (ValueError, KeyError, TypeError):
                continue
            self.events.append(event)
            if kind == "start":
                self.current, self.since = cell, now
            elif self.current == cell:
                self.current = None

    def running_for(self, now: float) -> float:
        return now - self.since if self.current is not None else 0.0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as file:
                    fields = file.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    if not os.path.isdir("/proc"):
        return [pid]
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += tree.get(current, [])
    return found


def _tree_memory_mb(pid: int) -> float:
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    total = 0
    for member in _descendants(pid):
        try:
            with open(f"/proc/{member}/statm") as file:
                total += int(file.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total / 2**20


def _kill_tree(pid: int) -> None:
    """SIGKILL the process group and every descendant still attached to the tree."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for member in _descendants(pid):
        try:
            os.kill(member, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
