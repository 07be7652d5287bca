"""Detail blobs (per-measurement arrays): content-addressed JSON files under the blob dir."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

BLOB_ID = re.compile(r"^[0-9a-f]{64}$")


def blob_document(name: str, data: Mapping[str, Any], identifier: str | None = None,
                  ) -> dict[str, Any]:
    """A blob as the harness keeps it: a name, `{key: {value, unit, label, description}}`,
    and the producer's own identifier when it had one."""
    document: dict[str, Any] = {"name": name, "data": dict(data)}
    if identifier is not None:
        document["identifier"] = identifier
    document["id"] = blob_id(document)
    return document


def blob_id(document: Mapping[str, Any]) -> str:
    """The content address of a blob: SHA-256 of its canonical name and data."""
    canonical = json.dumps({"name": document["name"], "data": document["data"]},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class BlobStore:
    """Blobs as files `<root>/<id[:2]>/<id>.json`, written once, atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, identifier: str) -> Path:
        return self.root / identifier[:2] / f"{identifier}.json"

    def put(self, document: Mapping[str, Any]) -> str:
        """Keep a blob (idempotent: the same content is the same file); returns its id."""
        identifier = blob_id(document)
        path = self._path(identifier)
        if path.exists():
            return identifier
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._written(path, {**document, "id": identifier}, durable=True), path)
        return identifier

    def put_many(self, documents: Iterable[Mapping[str, Any]]) -> list[str]:
        """Keep several blobs (a submission's) with one flush to disk instead of one per
        file: each is written to a temporary file beside its final name, the filesystem is
        synced, the files are renamed, and it is synced again (the renames); returns ids.
        A reader or a crash never finds a partial file under a blob's name."""
        identifiers, pending = [], {}
        try:
            for document in documents:
                identifier = blob_id(document)
                identifiers.append(identifier)
                path = self._path(identifier)
                if identifier not in pending and not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    pending[identifier] = (path, self._written(
                        path, {**document, "id": identifier}, durable=False))
            if not pending:
                return identifiers
            self._sync([temporary for _, temporary in pending.values()])
            for path, temporary in pending.values():
                os.replace(temporary, path)
        except BaseException:
            for _, temporary in pending.values():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
            raise
        self._sync([path.parent for path, _ in pending.values()])
        return identifiers

    def _written(self, path: Path, document: Mapping[str, Any], durable: bool) -> str:
        """A temporary file beside `path` holding the document; its name."""
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False,
                                         suffix=".tmp", encoding="utf-8") as stream:
            # one write: json.dump writes piece by piece, and took half of put's time
            stream.write(json.dumps(document, ensure_ascii=False))
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        return stream.name

    def _sync(self, paths: Iterable[str | Path]) -> None:
        """Make what was written under these paths durable: one syncfs(2) of the blob
        filesystem where there is one (Linux), else an fsync of each path."""
        if _syncfs(self.root):
            return
        for path in dict.fromkeys(paths):
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)

    def get(self, identifier: str) -> dict[str, Any] | None:
        """A blob by id, or None (an id that is not a SHA-256 is never a path)."""
        if not BLOB_ID.match(identifier):
            return None
        try:
            document: dict[str, Any] = json.loads(self._path(identifier).read_text("utf-8"))
            return document
        except FileNotFoundError:
            return None


def _syncfs(root: Path) -> bool:
    """syncfs(2) of the filesystem that holds `root` (Linux only): every file written there,
    in one call, without syncing every filesystem as sync(2) does. False where there is no
    such call; OSError if the call fails."""
    syncfs = _syncfs_call()
    if syncfs is None:
        return False
    descriptor = os.open(root, os.O_RDONLY)
    try:
        if syncfs(descriptor) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"syncfs of {root}: {os.strerror(error)}")
    finally:
        os.close(descriptor)
    return True


@functools.cache
def _syncfs_call() -> Any:
    """libc's syncfs, or None (not Linux, or a libc without it)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
