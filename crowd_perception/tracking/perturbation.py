"""Seeded perturbation of ground-truth boxes into realistic detector output, to evaluate the
association alone (what the tracker does with imperfect detections, independent of any model).

The model, per frame, with ``v`` the visible fraction of a person (1 when unknown):

- **misses**: a person is dropped with probability ``miss_rate + occlusion_miss * (1 - v)``, and
  always when ``v < min_visible``;
- **box noise**: centre + ``N(0, centre_noise * (w, h))``, width and height times
  ``exp(N(0, size_noise))``;
- **scores**: ``clip(score_base + score_visibility * v + N(0, score_noise), 0.01, 0.99)``, so
  occluded people fall under the 0.5 threshold (what BYTE's second stage is for);
- **false positives**: ``Poisson(false_positives)`` person-shaped boxes anywhere in the image with
  scores ``U(0.1, 0.65)`` and random embeddings;
- **identity embeddings**: each identity has a unit prototype drawn from a generator seeded by
  ``(seed, identity)``, mixing a component shared by everybody (``identity_similarity``, people
  look alike) with a private one; a detection's embedding is the prototype plus isotropic noise of
  norm about ``embedding_noise * (1 + occlusion_embedding_noise * (1 - v)) * exp(N(0, embedding_spread))``
  (pose, light and crop vary from frame to frame), renormalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.types import Detections

__all__ = ["PerturbationConfig", "DetectionPerturbation"]


@dataclass(frozen=True)
class PerturbationConfig:
    """Parameters of the perturbation model (see the module docstring)."""

    miss_rate: float = 0.05
    occlusion_miss: float = 0.4
    min_visible: float = 0.1
    centre_noise: float = 0.03
    size_noise: float = 0.05
    score_base: float = 0.3
    score_visibility: float = 0.65
    score_noise: float = 0.1
    false_positives: float = 1.0
    embedding_dim: int = 128
    identity_similarity: float = 0.5
    embedding_noise: float = 0.7
    occlusion_embedding_noise: float = 1.0
    embedding_spread: float = 0.35


class DetectionPerturbation:
    """Turns ground-truth boxes into :class:`Detections`; one instance per sequence (seeded)."""

    def __init__(self, config: PerturbationConfig | None = None, seed: int = 0) -> None:
        self.config = config or PerturbationConfig()
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        shared = np.random.default_rng([seed, 0x5EED]).normal(size=self.config.embedding_dim)
        self._shared = shared / np.linalg.norm(shared)
        self._prototypes: dict[int, np.ndarray] = {}

    def prototype(self, identity: int) -> np.ndarray:
        """The unit embedding prototype of ``identity`` (same for the same seed and identity)."""
        if identity not in self._prototypes:
            private = np.random.default_rng([self.seed, int(identity)]).normal(size=self.config.embedding_dim)
            private /= np.linalg.norm(private)
            rho = self.config.identity_similarity
            self._prototypes[identity] = np.sqrt(rho) * self._shared + np.sqrt(1 - rho) * private
            self._prototypes[identity] /= np.linalg.norm(self._prototypes[identity])
        return self._prototypes[identity]

    def __call__(
        self, boxes: np.ndarray, ids: np.ndarray, visible: np.ndarray | None, width: int, height: int
    ) -> tuple[Detections, np.ndarray]:
        """Detections of one frame and, row-aligned, the identity each came from (-1: false positive)."""
        cfg, rng = self.config, self.rng
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        vis = np.ones(len(boxes)) if visible is None else np.nan_to_num(np.asarray(visible, float), nan=1.0)
        keep = (vis >= cfg.min_visible) & (rng.random(len(boxes)) >= cfg.miss_rate + cfg.occlusion_miss * (1 - vis))
        boxes, ids, vis = boxes[keep], ids[keep], vis[keep]

        wh = boxes[:, 2:] - boxes[:, :2]
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2 + rng.normal(0, cfg.centre_noise, wh.shape) * wh
        wh = wh * np.exp(rng.normal(0, cfg.size_noise, wh.shape))
        noisy = np.concatenate([centre - wh / 2, centre + wh / 2], axis=1)
        scores = np.clip(
            cfg.score_base + cfg.score_visibility * vis + rng.normal(0, cfg.score_noise, len(vis)), 0.01, 0.99
        )
        sigma = cfg.embedding_noise * (1 + cfg.occlusion_embedding_noise * (1 - vis))
        sigma = sigma * np.exp(rng.normal(0, cfg.embedding_spread, len(vis)))
        protos = np.array([self.prototype(i) for i in ids]).reshape(len(ids), cfg.embedding_dim)
        emb = protos + rng.normal(size=protos.shape) * (sigma / np.sqrt(cfg.embedding_dim))[:, None]

        n_fp = rng.poisson(cfg.false_positives)
        fp_h = rng.uniform(0.08, 0.3, n_fp) * height
        fp_c = np.stack([rng.uniform(0, width, n_fp), rng.uniform(0, height, n_fp)], axis=1)
        fp_wh = np.stack([0.4 * fp_h, fp_h], axis=1)
        fp_boxes = np.concatenate([fp_c - fp_wh / 2, fp_c + fp_wh / 2], axis=1)
        fp_emb = rng.normal(size=(n_fp, cfg.embedding_dim))

        all_emb = np.concatenate([emb, fp_emb])
        all_emb /= np.maximum(np.linalg.norm(all_emb, axis=1, keepdims=True), 1e-12)
        dets = Detections(
            np.concatenate([noisy, fp_boxes]),
            np.concatenate([scores, rng.uniform(0.1, 0.65, n_fp)]),
            embeddings=all_emb,
        )
        return dets, np.concatenate([ids, np.full(n_fp, -1)])
