"""Shared pytest fixtures: paths to the real dataset samples and a per-test torch thread limit."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    """``../shared/fixtures`` (small real dataset samples); skips the test when it is absent."""
    if not FIXTURES.is_dir():
        pytest.skip(f"real dataset samples not found at {FIXTURES} (they live beside the checkout)")
    return FIXTURES


@pytest.fixture(autouse=True, scope="session")
def _single_thread_torch() -> None:
    """CI has two cores shared by everything: keep torch (if present) on one thread."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
