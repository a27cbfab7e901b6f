"""Document files outside the database, content-addressed by SHA-256: each stored once."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class DocumentFiles:
    """Content-addressed files: `documents/ab/<sha256>`, written once, atomically."""

    def __init__(self, root: Path, quarantine_root: Path) -> None:
        self.root = root
        self.quarantine_root = quarantine_root

    def _target(self, root: Path, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return root / sha256[:2] / sha256

    def put(self, src: Path, sha256: str, media_type: str | None = None) -> Path:
        """Copy `src` in under its hash; a file already there is kept (same hash, same bytes)."""
        target = self._target(self.root, sha256)
        if not target.exists():
            _atomic_copy(src, target)
        return target

    def quarantine(self, src: Path, sha256: str, reason: str) -> Path:
        target = self._target(self.quarantine_root, sha256)
        if not target.exists():
            _atomic_copy(src, target)
        note = target.with_name(sha256 + ".reason.txt")
        if not note.exists():  # apart from the copy: a disk that filled between the two is retried
            note.write_text(reason + "\n", encoding="utf-8")
        return target

    def path(self, sha256: str) -> Path | None:
        target = self._target(self.root, sha256)
        return target if target.exists() else None


def _atomic_copy(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
