"""The blob folder of a backup: the content-addressed files, copied as they are."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from harness.storage.backup.errors import BackupError


def blob_files(root: Path) -> list[Path]:
    """Every blob file under a blob folder (relative paths, sorted); none if it is missing."""
    if not root.is_dir():
        return []
    return sorted(path.relative_to(root) for path in root.rglob("*.json") if path.is_file())


def copy_blobs(source: Path, target: Path,
               progress: Callable[[Iterable[Path]], Iterable[Path]]) -> int:
    """Copy every blob of source into target (a blob already there is the same content: its
    name is the address of its content); returns how many blobs source holds."""
    files = blob_files(source)
    for relative in progress(files):
        destination = target / relative
        if destination.is_file():
            continue
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial = destination.with_suffix(".partial")
            shutil.copyfile(source / relative, partial)
            os.replace(partial, destination)
        except OSError as error:
            raise BackupError(f"copying blob {relative} to {target}: {error}") from None
    return len(files)
