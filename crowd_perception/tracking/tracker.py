"""The JDE online tracker (Wang et al., "Towards Real-Time Multi-Object Tracking", ECCV 2020),
vectorised, with the improvements of :mod:`crowd_perception.tracking.config` behind switches.

One :class:`Tracker` per camera; all state lives in the instance (ids start at 1 per tracker).
Per call of :meth:`Tracker.update`, following JDE's ``JDETracker.update``:

1. confirmed and lost tracks are Kalman-predicted and matched to the detections by the gated,
   fused appearance + motion cost (``lap`` with cost limit 0.7);
2. the remaining *tracked* tracks (optionally the lost ones too, as ByteTrack does) are matched
   to the remaining detections by IoU (limit 0.5) (BYTE, optional: then to the low-score
   detections by IoU); the rest become lost;
3. unconfirmed tracks (created in the previous frame) are matched by IoU (limit 0.7) or removed;
4. leftover detections above the score threshold start new tracks (confirmed at once only in the
   very first frame); lost tracks older than the buffer are removed; tracked/lost duplicates
   (IoU > 0.85) are resolved in favour of the older track.

Tracks report their Kalman box (JDE) or, with ``report_detection_boxes``, the box of the
detection matched in this frame. The per-frame fixed cost is kept low for small crowds: the
detections are converted and their embeddings normalised once per frame, the Kalman matrices are
cached, and small assignment problems are solved in one call (:mod:`.matching`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..core.boxes import box_iou, cxcyah_to_xyxy, paired_iou, xyxy_to_cxcyah
from ..core.types import Detections, Tracks, TrackState
from .camera_motion import validate_homography, warp_states
from .config import TrackerConfig, get_profile
from .kalman import KalmanFilter, Projection, dense_gating_distance, gate_candidates, pair_gating_distance
from .matching import embedding_distance, fuse_motion, iou_distance, linear_assignment, paired_embedding_distance
from .pool import LOST, TRACKED, TrackPool

__all__ = ["Tracker"]

_LOG = logging.getLogger(__name__)

_DENSE_PAIRS = 32 * 32  # stage 1 computes whole matrices up to this many (track, detection) pairs
MAX_DETECTIONS = 1000  # per frame: the best-scored ones are associated, the rest counted (bounds every cost matrix)
# the output states as plain integers (an enum member costs a conversion in every array operation)
_TENTATIVE, _CONFIRMED, _LOST = (np.uint8(s) for s in (TrackState.TENTATIVE, TrackState.CONFIRMED, TrackState.LOST))


class Tracker:
    """Online multi-person tracker: ``update(detections, stamp_ns, homography=None) -> Tracks``."""

    def __init__(self, config: TrackerConfig | str = "default", max_detections: int = MAX_DETECTIONS) -> None:
        if max_detections < 1:
            raise ValueError(f"max_detections must be >= 1, got {max_detections}")
        self.max_detections = max_detections
        self.overflow_detections = 0  # detections beyond max_detections in a frame (lowest scores), not associated
        self.config = get_profile(config) if isinstance(config, str) else config
        self.kalman = KalmanFilter(self.config.std_weight_position, self.config.std_weight_velocity)
        self._next_id = 1
        self.removed_ids: list[int] = []  # JDE's ever-growing removed list (empty with bounded_memory)
        self.dropped_detections = 0  # detections dropped for non-finite or degenerate values (see update)
        self.resets = 0  # resets because the stamps went backwards
        self.reset()

    def reset(self) -> None:
        """Forget all tracks (ids keep counting, so an id is never reused by this tracker)."""
        self.pool: TrackPool | None = None
        self.frame_id = 0
        self.last_stamp_ns: int | None = None
        self._stamp_now = 0
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
        # every track after this frame's prediction, until the commit: measurement space and xyxy box
        self._projection: Projection | None = None
        self._predicted_boxes = np.zeros((0, 4))

    @property
    def _tracks(self) -> TrackPool:
        """The track pool, which the first update creates (it fixes the embedding size)."""
        if self.pool is None:
            raise RuntimeError("the tracker has no track pool before its first update")
        return self.pool

    @property
    def _projected(self) -> Projection:
        """This frame's predicted tracks in measurement space (set by ``update`` before association)."""
        if self._projection is None:
            raise RuntimeError("no projection outside update")
        return self._projection

    # ------------------------------------------------------------------ public API
    def update(self, detections: Detections, stamp_ns: int, homography: np.ndarray | None = None) -> Tracks:
        """Associate one frame of detections; returns every live track with its state.

        ``homography`` (3x3, previous image -> current image) is applied when the config enables
        camera-motion compensation. An empty ``detections`` is a valid frame. A detection with a
        non-finite box, score or embedding, or a box without area, is dropped (counted in
        ``dropped_detections``, warned about); the rest of the frame is tracked, at most
        ``max_detections`` of it (the best-scored; the others counted in ``overflow_detections``). A timestamp earlier
        than the previous one resets the tracker with a warning (counted in ``resets``). Invalid
        input (a singular homography, a changed embedding size) raises ``ValueError`` before any
        state changes. With a time-based profile, tracks not updated for longer than the track
        buffer are removed *before* association, so after a gap in the input new people get new ids.
        """
        stamp_ns = int(stamp_ns)
        detections = self._usable(detections)
        if homography is not None:
            homography = validate_homography(homography)
        if self.last_stamp_ns is not None and stamp_ns < self.last_stamp_ns:
            _LOG.warning("timestamp went backwards (%d < %d ns): resetting the tracker", stamp_ns, self.last_stamp_ns)
            self.reset()
            self.resets += 1
        pool = self._pool_for(detections)
        dt = self._step(stamp_ns)
        cfg = self.config
        if cfg.time_based and len(pool):  # expired during a gap: never offered to this frame's association
            expired = (self._clock(stamp_ns) - pool.last_clock) > cfg.track_buffer_s
            self._remove(expired, record=True)

        frame = _DetectionRows.of(detections)
        is_high = frame.scores >= cfg.detection_threshold
        high = frame.take(is_high.nonzero()[0])
        low = None
        if cfg.byte:
            low = frame.without_features().take((~is_high & (frame.scores >= cfg.byte_low_threshold)).nonzero()[0])

        if cfg.camera_motion and homography is not None and len(pool):
            pool.mean, pool.cov = warp_states(pool.mean, pool.cov, homography)

        tracked = pool.state == TRACKED
        unconfirmed = (tracked & ~pool.activated).nonzero()[0]
        candidates = (~tracked | pool.activated).nonzero()[0]  # confirmed or lost
        self._predict(candidates, dt)
        self._projection = self.kalman.projection(pool.mean, pool.cov)
        self._predicted_boxes = cxcyah_to_xyxy(self._projection.mean)

        # Stage 1: appearance + motion.
        cost = self._appearance_motion_cost(candidates, high)
        matches, u_track, u_det = linear_assignment(cost, cfg.embedding_limit)
        self._apply(candidates[matches[:, 0]], high, matches[:, 1])

        # Stage 2: remaining tracked (and with iou_lost_tracks, lost) tracks vs remaining detections, IoU.
        remaining = candidates[u_track]
        if not cfg.iou_lost_tracks:
            remaining = remaining[pool.state[remaining] == TRACKED]
        remaining, u_det = self._iou_stage(remaining, high, u_det, cfg.iou_limit)
        if low is not None:  # BYTE: low-score detections only extend tracks, never their appearance
            remaining, _ = self._iou_stage(remaining, low, np.arange(len(low)), cfg.byte_iou_limit)
        pool.state[remaining] = LOST

        # Unconfirmed tracks: IoU with a looser limit, removed when unmatched.
        u_unconfirmed, u_det = self._iou_stage(unconfirmed, high, u_det, cfg.unconfirmed_iou_limit)
        self._commit()
        removed = np.zeros(len(pool), dtype=bool)
        removed[u_unconfirmed] = True

        # Lost tracks past the buffer are removed.
        age_of_loss = self._clock(stamp_ns) - pool.last_clock
        buffer = cfg.track_buffer_s if cfg.time_based else cfg.track_buffer_frames
        removed |= (pool.state == LOST) & (age_of_loss > buffer)
        self._remove(removed, record=True)

        new = u_det[high.scores[u_det] >= cfg.new_track_threshold]
        self._start(high, new, stamp_ns)
        kalman_boxes = self._remove_duplicates(cxcyah_to_xyxy(pool.mean[:, :4]))
        self.last_stamp_ns = stamp_ns
        return self._output(stamp_ns, kalman_boxes)

    # ------------------------------------------------------------------ steps
    def _usable(self, detections: Detections) -> Detections:
        """The detections with finite values and a positive area; the others dropped and counted."""
        boxes = detections.boxes
        ok = (np.isfinite(boxes).all(axis=1) & np.isfinite(detections.scores)
              & np.isfinite(detections.embeddings).all(axis=1))
        ok &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])  # False for NaN, no warning
        if not ok.all():
            dropped = int((~ok).sum())
            self.dropped_detections += dropped
            _LOG.warning("dropped %d of %d detections with non-finite values or no area (%d so far)", dropped,
                         len(ok), self.dropped_detections)
            detections = detections.select(ok)
        return self._capped(detections)

    def _capped(self, detections: Detections) -> Detections:
        """At most ``max_detections``, the best-scored: a frame of thousands of boxes (a broken detector, a
        threshold of 0) must not make the association quadratic in them. The rest is counted and warned about."""
        overflow = len(detections) - self.max_detections
        if overflow <= 0:
            return detections
        self.overflow_detections += overflow
        _LOG.warning("%d detections in one frame: only the %d best-scored are tracked (%d ignored so far)",
                     len(detections), self.max_detections, self.overflow_detections)
        return detections.select(np.argsort(-detections.scores, kind="stable")[: self.max_detections])

    def _clock(self, stamp_ns: int) -> float:
        """Current time in the config's clock: seconds (time-based) or the frame counter (JDE)."""
        return stamp_ns * 1e-9 if self.config.time_based else float(self.frame_id)

    def _step(self, stamp_ns: int) -> float:
        """Advance the frame counter; the Kalman step in nominal frames."""
        self.frame_id += 1
        self._stamp_now = stamp_ns
        if not self.config.time_based:
            return 1.0
        if self.last_stamp_ns is None:
            return 0.0
        return (stamp_ns - self.last_stamp_ns) * 1e-9 * self.config.frame_rate

    def _pool_for(self, detections: Detections) -> TrackPool:
        """The track pool, created on the first frame with the detections' embedding size."""
        dim = detections.embeddings.shape[1]
        if self.pool is None or (dim != self.pool.embedding_dim and len(self.pool) == 0):
            self.pool = TrackPool(dim)
        elif dim != self.pool.embedding_dim and len(detections):
            raise ValueError(f"embedding size changed from {self.pool.embedding_dim} to {dim}")
        return self.pool

    def _predict(self, rows: np.ndarray, dt: float) -> None:
        """Kalman-predict the given rows; lost tracks stop growing/shrinking (JDE zeroes ``vh``)."""
        pool = self._tracks
        if len(rows) == 0:
            return
        mean = pool.mean.take(rows, axis=0)
        mean[pool.state.take(rows) != TRACKED, 7] = 0.0
        pool.mean[rows], pool.cov[rows] = self.kalman.predict(mean, pool.cov.take(rows, axis=0), dt)

    def _appearance_motion_cost(self, rows: np.ndarray, dets: _DetectionRows) -> np.ndarray:
        """Stage-1 cost: gated fusion of appearance distance and squared Mahalanobis distance.

        A small problem (at most ``_DENSE_PAIRS`` pairs) is computed as whole matrices, like JDE;
        a larger one only for the pairs that can pass the motion gate (the others are ``inf``
        anyway). Without embeddings (size 0) the appearance term is the IoU distance.
        """
        cfg = self.config
        n, m = len(rows), len(dets)
        if n == 0 or m == 0:
            return np.full((n, m), np.inf)
        projected = self._projected.take(rows)
        if n * m <= _DENSE_PAIRS:
            maha = dense_gating_distance(projected.mean, projected.inverse, dets.xyah)
            return self._fuse(maha, rows, projected.mean, dets, paired=False)
        cost = np.full((n, m), np.inf)
        r, c = gate_candidates(projected.mean, projected.cov, dets.xyah, cfg.gating_threshold)
        if len(r):
            maha = pair_gating_distance(projected.mean, projected.cov, dets.xyah, r, c)
            cost[r, c] = self._fuse(maha, rows[r], projected.mean[r], dets.take(c), paired=True)
        return cost

    def _fuse(
        self, maha: np.ndarray, rows: np.ndarray, xyah: np.ndarray, dets: _DetectionRows, paired: bool
    ) -> np.ndarray:
        """Gated fused cost of track ``rows`` (predicted measurements ``xyah``) and ``dets``: of every
        pair (``maha`` is ``(N, M)``) or of row-aligned pairs (``paired``, ``maha`` is ``(K,)``)."""
        cfg = self.config
        if dets.features.shape[1] == 0:
            iou = paired_iou if paired else box_iou
            appearance = 1.0 - iou(cxcyah_to_xyxy(xyah), dets.boxes)
        else:
            distance = paired_embedding_distance if paired else embedding_distance
            appearance = distance(self._tracks.features.take(rows, axis=0), dets.features, cfg.appearance_metric)
            if cfg.appearance_gate is not None:
                appearance = np.where(appearance > cfg.appearance_gate, np.inf, appearance)
        return fuse_motion(appearance, maha, cfg.gating_threshold, cfg.appearance_weight)

    def _iou_stage(
        self, rows: np.ndarray, dets: _DetectionRows, det_index: np.ndarray, limit: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Match ``rows`` to detections ``det_index`` by IoU; returns the unmatched of both."""
        if len(rows) == 0 or len(det_index) == 0:
            return rows, det_index
        cost = iou_distance(self._predicted_boxes.take(rows, axis=0), dets.boxes.take(det_index, axis=0))
        matches, u_rows, u_dets = linear_assignment(cost, limit)
        self._apply(rows[matches[:, 0]], dets, det_index[matches[:, 1]])
        return rows[u_rows], det_index[u_dets]

    def _apply(self, rows: np.ndarray, dets: _DetectionRows, det_rows: np.ndarray) -> None:
        """Matched tracks become tracked and confirmed (JDE ``update`` / ``re_activate``).

        The Kalman and appearance updates are queued for :meth:`_commit` (a track takes part in
        one association stage at most, so later stages never need them); detections without
        features (size 0) leave the appearance model untouched.
        """
        if len(rows) == 0:
            return
        pool = self._tracks
        features = dets.features.take(det_rows, axis=0) if dets.features.shape[1] and pool.embedding_dim else None
        self._pending.append((rows, dets.xyah.take(det_rows, axis=0), features))
        pool.state[rows] = TRACKED
        pool.activated[rows] = True
        pool.last_clock[rows] = self._clock(self._stamp_now)
        pool.last_stamp[rows] = self._stamp_now
        pool.hits[rows] += 1
        pool.score[rows] = dets.scores.take(det_rows)
        pool.box[rows] = dets.boxes.take(det_rows, axis=0)

    def _commit(self) -> None:
        """One batched Kalman update (and embedding EMA) for every match of this frame."""
        if not self._pending:
            return
        pool = self._tracks
        rows, z = _stacked([p[0] for p in self._pending]), _stacked([p[1] for p in self._pending])
        pool.mean[rows], pool.cov[rows] = self.kalman.update(
            pool.mean.take(rows, axis=0), pool.cov.take(rows, axis=0), z, self._projected.take(rows)
        )
        with_features = [(p[0], p[2]) for p in self._pending if p[2] is not None]
        if with_features:
            rows, feat = _stacked([r for r, _ in with_features]), _stacked([f for _, f in with_features])
            m = self.config.embedding_momentum
            pool.features[rows] = _normalise(m * pool.features.take(rows, axis=0) + (1.0 - m) * feat)
        self._pending = []

    def _start(self, dets: _DetectionRows, index: np.ndarray, stamp_ns: int) -> None:
        """New tracks from detections ``index`` (confirmed immediately only on the first frame)."""
        n = len(index)
        if n == 0:
            return
        mean, cov = self.kalman.initiate(dets.xyah[index])
        clock = self._clock(stamp_ns)
        self._tracks.append(
            ids=np.arange(self._next_id, self._next_id + n),
            mean=mean,
            cov=cov,
            features=dets.features[index],
            state=np.full(n, TRACKED),
            activated=np.full(n, self.frame_id == 1),
            start_clock=np.full(n, clock),
            last_clock=np.full(n, clock),
            start_stamp=np.full(n, stamp_ns),
            last_stamp=np.full(n, stamp_ns),
            hits=np.ones(n),
            score=dets.scores[index],
            box=dets.boxes[index],
        )
        self._next_id += n

    def _remove(self, mask: np.ndarray, record: bool) -> None:
        if not mask.any():
            return
        if record and not self.config.bounded_memory:
            self.removed_ids.extend(self._tracks.ids[mask].tolist())
        self._tracks.keep(~mask)

    def _remove_duplicates(self, kalman_boxes: np.ndarray) -> np.ndarray:
        """Tracked vs lost pairs with IoU above the threshold: drop the one tracked for less time.

        ``kalman_boxes`` are the pool's Kalman boxes (xyxy); returns those of the rows kept.
        """
        pool = self._tracks
        tracked = (pool.state == TRACKED).nonzero()[0]
        lost = (pool.state == LOST).nonzero()[0]
        if len(tracked) == 0 or len(lost) == 0:
            return kalman_boxes
        p, q = np.nonzero(box_iou(kalman_boxes[tracked], kalman_boxes[lost]) > self.config.duplicate_iou)
        if len(p) == 0:
            return kalman_boxes
        duration = pool.last_clock - pool.start_clock
        tracked_older = duration[tracked[p]] > duration[lost[q]]
        drop = np.zeros(len(pool), dtype=bool)
        drop[lost[q[tracked_older]]] = True
        drop[tracked[p[~tracked_older]]] = True
        self._remove(drop, record=False)
        return kalman_boxes[~drop]

    def _output(self, stamp_ns: int, kalman_boxes: np.ndarray) -> Tracks:
        """Every live track; a tracked one (matched or started in this frame) with its detection's box
        when ``report_detection_boxes``, else all with their Kalman box (``kalman_boxes``, xyxy)."""
        pool = self._tracks
        lost = pool.state == LOST
        states = np.where(lost, _LOST, np.where(pool.activated, _CONFIRMED, _TENTATIVE))
        boxes = kalman_boxes
        if self.config.report_detection_boxes:
            boxes = np.where(lost[:, None], kalman_boxes, pool.box)
        return Tracks(
            ids=pool.ids,
            states=states,
            boxes=boxes,
            velocities=pool.mean[:, 4:6] * self.config.frame_rate,
            ages=(stamp_ns - pool.start_stamp) * 1e-9,
            hits=pool.hits,
            time_since_update=(stamp_ns - pool.last_stamp) * 1e-9,
            scores=pool.score,
        )


@dataclass(frozen=True)
class _DetectionRows:
    """Detections with Kalman measurements and unit embeddings (all of a frame, or one association tier)."""

    boxes: np.ndarray
    scores: np.ndarray
    xyah: np.ndarray
    features: np.ndarray

    @classmethod
    def of(cls, detections: Detections) -> _DetectionRows:
        """All detections of a frame, converted once (the tiers are row selections of it)."""
        boxes = detections.boxes.astype(np.float64)
        return cls(boxes, detections.scores, xyxy_to_cxcyah(boxes), _normalise(detections.embeddings))

    def take(self, index: np.ndarray) -> _DetectionRows:
        """The rows ``index`` (integers; ``ndarray.take`` costs a fraction of fancy indexing on a few rows)."""
        return _DetectionRows(
            self.boxes.take(index, axis=0),
            self.scores.take(index),
            self.xyah.take(index, axis=0),
            self.features.take(index, axis=0),
        )

    def __len__(self) -> int:
        return len(self.boxes)

    def without_features(self) -> _DetectionRows:
        return _DetectionRows(self.boxes, self.scores, self.xyah, self.features[:, :0])


def _stacked(parts: list[np.ndarray]) -> np.ndarray:
    """The parts concatenated along rows (a single part as it is: most frames have one)."""
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    features = np.asarray(features, dtype=np.float64)
    norm = np.sqrt(np.einsum("nd,nd->n", features, features))
    unit: np.ndarray = features / np.maximum(norm, 1e-12)[:, None]
    return unit
