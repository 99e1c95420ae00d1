"""Struct-of-arrays storage of the live tracks of one tracker (no per-track Python objects).

Rows are kept in creation order (ascending ids). The tracker selects rows with index arrays,
writes results back in place, and drops removed rows with :meth:`TrackPool.keep`, so memory is
proportional to the number of live tracks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TrackPool", "TRACKED", "LOST"]

TRACKED = 1  # JDE's "tracked" (confirmed when ``activated``, else new / unconfirmed)
LOST = 2


class TrackPool:
    """Arrays of all live tracks; ``clock`` values are frames (JDE) or seconds (time-based)."""

    FIELDS = (
        "ids", "mean", "cov", "features", "state", "activated",
        "start_clock", "last_clock", "start_stamp", "last_stamp", "hits", "score", "box",
    )  # fmt: skip

    def __init__(self, embedding_dim: int = 0) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.mean = np.zeros((0, 8))
        self.cov = np.zeros((0, 8, 8))
        self.features = np.zeros((0, embedding_dim))
        self.state = np.zeros(0, dtype=np.uint8)
        self.activated = np.zeros(0, dtype=bool)
        self.start_clock = np.zeros(0)
        self.last_clock = np.zeros(0)
        self.start_stamp = np.zeros(0, dtype=np.int64)
        self.last_stamp = np.zeros(0, dtype=np.int64)
        self.hits = np.zeros(0, dtype=np.int64)
        self.score = np.zeros(0, dtype=np.float32)
        self.box = np.zeros((0, 4))  # xyxy of the last matched detection

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def embedding_dim(self) -> int:
        return self.features.shape[1]

    def append(self, **rows: np.ndarray) -> None:
        """Add tracks; every field must be given with the same number of rows."""
        if set(rows) != set(self.FIELDS):
            raise ValueError(f"append needs exactly the fields {self.FIELDS}")
        for name in self.FIELDS:
            current = getattr(self, name)
            setattr(self, name, np.concatenate([current, np.asarray(rows[name], dtype=current.dtype)]))

    def keep(self, mask: np.ndarray) -> None:
        """Drop every row where ``mask`` is False."""
        for name in self.FIELDS:
            setattr(self, name, getattr(self, name)[mask])
