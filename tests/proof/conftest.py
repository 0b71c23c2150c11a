"""Checkpoints of the audit chains go to the test's own folder, never the instance folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def checkpoint_dir(app, tmp_path, monkeypatch):
    folder = tmp_path / "audit-checkpoints"
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_DIR", str(folder))
    return folder
