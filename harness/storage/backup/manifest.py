"""The manifest of a backup: what it holds (versions, time, counts) and every file's
SHA-256, so that a restore checks the whole backup before it changes anything."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.storage.backup.errors import BackupError

FORMAT = "harness.storage.backup/1"
NAME = "manifest.json"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    """What a backup folder holds; `files` maps each relative path to its SHA-256."""

    created: str
    versions: Mapping[str, str]
    database: str
    counts: Mapping[str, Any]
    files: Mapping[str, str] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> dict[str, Any]:
        """The manifest as the JSON document written to the backup."""
        return {"format": self.format, "created": self.created, "versions": dict(self.versions),
                "database": self.database, "counts": dict(self.counts),
                "files": dict(sorted(self.files.items()))}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Manifest:
        """A manifest read back; an unknown format raises BackupError."""
        if document.get("format") != FORMAT:
            raise BackupError(f"{NAME}: format {document.get('format')!r} is not {FORMAT!r}")
        try:
            return cls(created=document["created"], versions=document["versions"],
                       database=document["database"], counts=document["counts"],
                       files=document["files"])
        except KeyError as error:
            raise BackupError(f"{NAME}: missing key {error}") from None


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def files_of(root: Path) -> list[Path]:
    """Every file under root except the manifest, as paths relative to root, sorted."""
    return sorted(path.relative_to(root) for path in root.rglob("*")
                  if path.is_file() and path.name != NAME)


def checksums(root: Path, progress: Callable[[Iterable[Path]], Iterable[Path]]
              ) -> dict[str, str]:
    """Relative path → SHA-256 of every file under root (the manifest excepted)."""
    return {str(path): sha256_of(root / path) for path in progress(files_of(root))}


def write(root: Path, manifest: Manifest) -> None:
    """Write the manifest into the backup folder."""
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    (root / NAME).write_text(text, encoding="utf-8")


def read(root: Path) -> Manifest:
    """Read a backup folder's manifest; a missing or unreadable one raises BackupError."""
    path = root / NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path} not found: {root} is not a complete harness backup") from None
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from None
    return Manifest.from_json(document)


def verify(root: Path, manifest: Manifest,
           progress: Callable[[Iterable[str]], Iterable[str]]) -> None:
    """Check that the folder holds exactly the manifest's files, each with its checksum."""
    present = {str(path) for path in files_of(root)}
    problems = [f"{name}: missing" for name in sorted(set(manifest.files) - present)]
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(manifest.files))]
    for name in progress(sorted(set(manifest.files) & present)):
        if sha256_of(root / name) != manifest.files[name]:
            problems.append(f"{name}: checksum differs")
    if problems:
        shown = "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)"
                                           if len(problems) > 5 else "")
        raise BackupError(f"backup {root} is damaged: {shown}")
