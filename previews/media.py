"""Resolving a requested file inside a job's folder, refusing anything that escapes it."""
from __future__ import annotations

from pathlib import Path

from pipeline.paths import OutsideFolder, contained


class OutsideJobFolder(Exception):
    pass


def clean_job_path(requested: str) -> str:
    """`requested` as a key under the job's prefix in the object store, or OutsideJobFolder: a store has no
    symlinks, but `..`, `.`, empty segments, backslashes and absolute paths are refused all the same."""
    if (not requested or requested.startswith("/") or "\\" in requested or "\x00" in requested
            or any(part in ("", ".", "..") for part in requested.split("/"))):
        raise OutsideJobFolder(requested)
    return requested


def resolve_job_file(work_dir: Path, requested: str) -> Path:
    """The real path of `requested` under `work_dir` (a file, symlinks resolved), or OutsideJobFolder."""
    if not requested:
        raise OutsideJobFolder(requested)
    try:
        candidate = contained(work_dir, requested, must_be_file=True)
    except OutsideFolder:
        raise OutsideJobFolder(requested) from None
    if candidate == work_dir.resolve():
        raise OutsideJobFolder(requested)
    return candidate
