"""A submission's blobs are kept with one flush to disk for all of them, and never appear
partly written under their names (harness.storage.blobs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.storage import blobs as blob_module
from harness.storage.blobs import BlobStore, blob_document

DOCUMENTS = [blob_document(f"blob{number}", {"x": {"value": [number, 1.5, "é 🚀 \"q\""]}})
             for number in range(5)]


def files(root: Path) -> dict[str, bytes]:
    """Every file under root, by name relative to it."""
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_blobs_kept_together_read_back_and_are_the_files_put_writes(tmp_path: Path) -> None:
    together, one_by_one = BlobStore(tmp_path / "a"), BlobStore(tmp_path / "b")
    identifiers = together.put_many([*DOCUMENTS, DOCUMENTS[0]])
    assert identifiers == [*(one_by_one.put(d) for d in DOCUMENTS), DOCUMENTS[0]["id"]]
    assert [together.get(identifier) for identifier in identifiers[:5]] == DOCUMENTS
    assert files(tmp_path / "a") == files(tmp_path / "b")  # no temporary file left either


def test_blobs_are_synced_twice_per_submission_not_once_per_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, seen = BlobStore(tmp_path), []

    def syncfs(root: Path) -> bool:
        seen.append(files(root))
        return True

    monkeypatch.setattr(blob_module, "_syncfs", syncfs)
    monkeypatch.setattr(os, "fsync", lambda descriptor: pytest.fail("a file was fsynced"))
    store.put_many(DOCUMENTS)
    before_renames, after_renames = seen
    # while the files are written, readers find none of them; then every one, whole
    assert all(name.endswith(".tmp") for name in before_renames) and len(before_renames) == 5
    assert sorted(before_renames.values()) == sorted(after_renames.values())
    assert all(store.get(document["id"]) == document for document in DOCUMENTS)
    assert all(name.endswith(".json") for name in after_renames)
    store.put_many(DOCUMENTS)  # kept already: nothing written, nothing synced
    store.put_many([])
    assert len(seen) == 2


def test_without_syncfs_each_file_and_directory_is_fsynced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, synced = BlobStore(tmp_path), []
    fsync = os.fsync

    def recorded(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}") if sys.platform == "linux"
                      else str(descriptor))
        fsync(descriptor)

    monkeypatch.setattr(blob_module, "_syncfs", lambda root: False)
    monkeypatch.setattr(os, "fsync", recorded)
    store.put_many(DOCUMENTS[:2])
    assert len(synced) == 4
    if sys.platform == "linux":
        assert all(name.endswith(".tmp") for name in synced[:2])
        assert {Path(name) for name in synced[2:]} == {
            (tmp_path / document["id"][:2]).resolve() for document in DOCUMENTS[:2]}


def test_a_failed_sync_leaves_no_file_behind(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(root: Path) -> Any:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(blob_module, "_syncfs", failing)
    with pytest.raises(OSError):
        BlobStore(tmp_path).put_many(DOCUMENTS)
    assert files(tmp_path) == {}


@pytest.mark.skipif(sys.platform != "linux", reason="syncfs(2) is Linux's")
def test_the_blob_filesystem_is_synced_by_syncfs_on_linux(tmp_path: Path) -> None:
    assert blob_module._syncfs(tmp_path) is True
