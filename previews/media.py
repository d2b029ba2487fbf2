"""Resolving a requested file inside a job's folder, refusing anything that escapes it."""
from __future__ import annotations

from pathlib import Path


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
    """The real path of `requested` under `work_dir`, or OutsideJobFolder.

    Absolute paths, `..`, encoded traversal (already decoded by the URL layer) and
    symlinks that lead out of the folder are all refused: the check is made on the
    fully resolved path.
    """
    if not requested or requested.startswith(("/", "\\")) or "\x00" in requested:
        raise OutsideJobFolder(requested)
    root = work_dir.resolve()
    candidate = (root / requested).resolve()
    if root not in candidate.parents or not candidate.is_file():
        raise OutsideJobFolder(requested)
    return candidate
