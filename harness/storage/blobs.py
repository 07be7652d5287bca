"""Detail blobs (per-measurement arrays): content-addressed JSON files under the blob dir."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
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
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False,
                                         suffix=".tmp", encoding="utf-8") as stream:
            json.dump({**document, "id": identifier}, stream, ensure_ascii=False)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(stream.name, path)
        return identifier

    def get(self, identifier: str) -> dict[str, Any] | None:
        """A blob by id, or None (an id that is not a SHA-256 is never a path)."""
        if not BLOB_ID.match(identifier):
            return None
        try:
            document: dict[str, Any] = json.loads(self._path(identifier).read_text("utf-8"))
            return document
        except FileNotFoundError:
            return None
