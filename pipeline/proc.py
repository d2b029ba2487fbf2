"""Running outside programs (eSpeak NG, FFmpeg): always with a timeout, stderr kept, nothing orphaned.

The child runs in its own process group, so on a timeout or an error the whole
group is killed and reaped, including anything it started.
"""
from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.errors import PipelineError

logger = logging.getLogger("pipeline.proc")
STDERR_KEEP = 4000


@dataclass
class Completed:
    args: list[str]
    returncode: int
    stdout: bytes
    stderr: str


REAP_TIMEOUT_S = 30


def kill_group(process: subprocess.Popen) -> None:
    """Kill the process and everything it started, and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=REAP_TIMEOUT_S)


def run(args: Sequence[str], *, timeout: float, error: Callable[..., PipelineError], what: str,
        input: bytes | None = None, capture_stdout: bool = False, cwd=None,
        keep_stderr: int = STDERR_KEEP) -> Completed:
    """Run `args` and return its output; raise `error(message, stderr=...)` on failure, timeout or absence.
    On success the last `keep_stderr` characters of its error output are kept (a caller that reads it keeps
    more)."""
    args = [str(a) for a in args]
    command = shlex.join(args)
    try:
        process = subprocess.Popen(args, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, start_new_session=True, cwd=cwd)
    except FileNotFoundError as exc:
        raise error(f"{what}: {args[0]} is not installed or not on PATH", stderr="") from exc
    except PermissionError as exc:
        raise error(f"{what}: {args[0]} cannot be run ({exc.strerror})", stderr="") from exc
    try:
        stdout, stderr_bytes = process.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        logger.error("%s timed out after %.0f s and was killed: %s", what, timeout, command)
        raise error(f"{what} took longer than {timeout:.0f} s and was stopped", stderr="", retryable=True) from None
    except BaseException:
        kill_group(process)
        raise
    stderr = stderr_bytes.decode("utf-8", "replace")
    if process.returncode != 0:
        tail = stderr[-STDERR_KEEP:]
        logger.error("%s failed with exit code %s: %s\n%s", what, process.returncode, command, tail)
        excerpt = tail.strip().splitlines()[-3:] if tail.strip() else ["(no error output)"]
        raise error(f"{what} failed (exit code {process.returncode}): {' | '.join(excerpt)[:500]}", stderr=tail)
    return Completed(args=args, returncode=0, stdout=stdout or b"", stderr=stderr[-keep_stderr:])
