"""Where attached files' bytes are kept: a folder, or an object store, named by a URL.

`ATTACHMENTS_URL` is a path or an fsspec URL ("" = the instance folder's `attachments/`): a
local folder by default, `s3://bucket/prefix` (with s3fs installed) or any other fsspec
filesystem in production. Files are kept under their SHA-256 (`ab/abcdef...`): the same bytes
attached twice, or carried over by a correction, are kept once, and a name never changes
meaning. A file is written whole under a temporary name and then moved into place, so a
reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import fsspec
from flask import current_app, has_app_context
from fsspec.spec import AbstractFileSystem


class MissingFile(LookupError):
    """No file is kept under this SHA-256 (deleted, or never written)."""


@dataclass(frozen=True)
class Store:
    fs: AbstractFileSystem
    root: str

    @classmethod
    def of(cls, app) -> Store:
        return cls.at(
            app.config.get("ATTACHMENTS_URL") or str(Path(app.instance_path) / "attachments")
        )

    @classmethod
    def at(cls, url: str) -> Store:
        fs, root = fsspec.core.url_to_fs(url)
        return cls(fs, root.rstrip("/"))

    @classmethod
    def current(cls) -> Store:
        """The app's, or, outside one (the demo seeded from a script), where the settings
        put it: ATTACHMENTS_URL, else the instance folder create_app would use."""
        if has_app_context():
            return cls.of(current_app)
        from afest.core.settings import load_settings

        url = load_settings().get("ATTACHMENTS_URL") or str(Path.cwd() / "instance" / "attachments")
        return cls.at(url)

    def path(self, sha256: str) -> str:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 in hex")
        return f"{self.root}/{sha256[:2]}/{sha256}"

    def put(self, data: bytes) -> str:
        """Keep `data`; return its SHA-256, the name to read it back by."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if self.fs.exists(target):
            return digest
        folder = target.rsplit("/", 1)[0]
        self.fs.makedirs(folder, exist_ok=True)
        partial = f"{folder}/.{digest}.{secrets.token_hex(4)}.part"
        self.fs.pipe_file(partial, data)
        self.fs.mv(partial, target)
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            return self.fs.cat_file(self.path(sha256))
        except FileNotFoundError as missing:
            raise MissingFile(sha256) from missing

    def exists(self, sha256: str) -> bool:
        return self.fs.exists(self.path(sha256))

    def delete(self, sha256: str) -> None:
        """Forget a file (the purge, once no row names it); nothing if it is not there."""
        target = self.path(sha256)
        if self.fs.exists(target):
            self.fs.rm_file(target)
