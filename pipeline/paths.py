"""Paths a person named, kept inside the folder they belong to.

The one containment check: a relative path is joined to its root and the fully resolved result (symlinks
followed) must be the root or inside it. Absolute paths, `..`, backslashes and NUL bytes are refused before
anything touches the disk.
"""
from __future__ import annotations

from pathlib import Path


class OutsideFolder(ValueError):
    """The path leads out of its folder (or is not a plain relative path)."""


def contained(root: Path | str, relative: str, *, must_be_file: bool = False) -> Path:
    """The resolved path of `relative` under `root`, or OutsideFolder in words."""
    relative = relative or ""
    if relative.startswith(("/", "\\")) or "\\" in relative or "\x00" in relative or ".." in relative.split("/"):
        raise OutsideFolder(f"{relative[:80]!r} must be a folder inside {Path(root).name or root}, written like "
                            "'desk/reels' (no '..', no leading '/')")
    base = Path(root).resolve()
    candidate = (base / relative).resolve()
    if candidate != base and base not in candidate.parents:
        raise OutsideFolder(f"{relative[:80]!r} leads out of {base} (through a link?)")
    if must_be_file and not candidate.is_file():
        raise OutsideFolder(f"{relative[:80]!r} is not a file in {base.name}")
    return candidate
