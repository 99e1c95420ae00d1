"""Contact sheet: generated frames with their ground truth drawn, for the README and for eyeballing.

Drawn per person: full (amodal) box in the identity's colour, visible box in white, skeleton
limbs, joints by state (filled dot = visible, ring = occluded by a person (red), by an object
(blue) or self-occluded (magenta); joints outside the image are not drawn), and the identity.
A second row shows the instance masks over the darkened image.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from ..core.annotations import FrameAnnotation
from ..core.skeletons import get_skeleton
from ..core.types import JointState
from .config import SynthConfig
from .generator import generate
from .presets import get_preset

__all__ = ["draw_annotation", "draw_instances", "contact_sheet", "write_contact_sheet", "identity_colour", "SHEET_TILES"]

_RING_COLOURS = {
    JointState.OCCLUDED_BY_PERSON: (40, 40, 230),
    JointState.OCCLUDED_BY_OBJECT: (230, 120, 30),
    JointState.SELF_OCCLUDED: (220, 60, 220),
    JointState.OCCLUDED: (0, 200, 255),
}


def identity_colour(identity: int) -> tuple[int, int, int]:
    """A bright, stable BGR colour for an identity (golden-ratio hue walk)."""
    hue = int((identity * 0.618033988749895 % 1.0) * 180)
    hsv = np.array([[[hue, 220, 255]]], np.uint8)
    b, g, r = (int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])
    return b, g, r


def draw_annotation(image: np.ndarray, annotation: FrameAnnotation, min_visible: float = 0.0) -> np.ndarray:
    """A copy of ``image`` with boxes, visible boxes, skeletons, joint states and ids drawn."""
    out = image.copy()
    p = annotation.persons
    limbs = get_skeleton(p.skeleton).limbs
    order = np.argsort(-np.nan_to_num(p.distances, nan=0.0))  # far first, near people on top
    for i in order:
        if p.visible_fractions[i] < min_visible:
            continue
        colour = identity_colour(int(p.ids[i]))
        # Image coordinates: pixel i covers [i, i + 1); OpenCV draws at pixel centres (integers).
        x0, y0, x1, y1 = np.floor(p.boxes[i]).astype(int)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, 1)
        if np.isfinite(p.visible_boxes[i, 0]):
            vx0, vy0, vx1, vy1 = np.round(p.visible_boxes[i]).astype(int)
            cv2.rectangle(out, (vx0, vy0), (vx1 - 1, vy1 - 1), (255, 255, 255), 1)
        kp, states = p.keypoints[i] - 0.5, p.keypoint_states[i]
        shown = np.isfinite(kp[:, 0]) & (states != JointState.OUTSIDE_IMAGE)
        height = max(y1 - y0, 1)
        radius = int(np.clip(height / 60, 1, 4))
        for a, b in limbs:
            if shown[a] and shown[b]:
                both = states[a] == JointState.VISIBLE and states[b] == JointState.VISIBLE
                pa, pb = tuple(np.round(kp[a]).astype(int)), tuple(np.round(kp[b]).astype(int))
                cv2.line(out, pa, pb, colour, 2 if both and height > 80 else 1, cv2.LINE_AA)
        for j in np.flatnonzero(shown):
            centre = tuple(np.round(kp[j]).astype(int))
            if states[j] == JointState.VISIBLE:
                cv2.circle(out, centre, radius, colour, -1, cv2.LINE_AA)
            else:
                cv2.circle(out, centre, radius + 1, _RING_COLOURS.get(JointState(states[j]), (0, 255, 255)), 1,
                           cv2.LINE_AA)
        if height > 30:
            cv2.putText(out, str(int(p.ids[i])), (x0, max(y0 - 3, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1,
                        cv2.LINE_AA)
    return out


def draw_instances(image: np.ndarray, annotation: FrameAnnotation) -> np.ndarray:
    """The instance masks in identity colours over the darkened image."""
    if annotation.instance_map is None:
        raise ValueError(f"{annotation.image_id}: no instance map")
    lut = np.zeros((len(annotation.persons) + 1, 3), np.uint8)
    for i, identity in enumerate(annotation.persons.ids):
        lut[i + 1] = identity_colour(int(identity))
    colours = lut[annotation.instance_map]
    dark = (image // 3).astype(np.uint8)
    return np.where((annotation.instance_map > 0)[..., None], colours // 4 * 3 + dark // 2, dark)


SHEET_TILES: tuple[tuple[str, str | None, int], ...] = (
    ("train_a", None, 0),
    ("train_b", None, 1),
    ("bench", "dense", 0),
    ("bench", "very_dense", 1),
)
"""Tiles of the README sheet: (preset, bench density group or None, sequence index in the group)."""


def _tile_config(preset: str, group: str | None, width: int, height: int, frames: int) -> SynthConfig:
    config = get_preset(preset).with_image_size(width, height)
    if group is not None:
        config = replace(config, sequences=tuple(s for s in config.sequences if s.name == group))
        if not config.sequences:
            raise ValueError(f"preset {preset!r} has no sequence group {group!r}")
    return config.with_frames(frames=frames)


def contact_sheet(seed: int = 0, tile_width: int = 384, tile_height: int = 216, frame: int = 5,
                  tiles: tuple[tuple[str, str | None, int], ...] = SHEET_TILES) -> np.ndarray:
    """Grid image: annotated frames on the top row, their instance masks below, a legend on top."""
    columns = []
    for preset, group, index in tiles:
        config = _tile_config(preset, group, tile_width, tile_height, frame + 1)
        sample = list(generate(config, seed, sequences=[index]))[frame]
        label = f"{preset}" + (f" {group}" if group else "") + f"  ({len(sample.annotation.persons)} people)"
        annotated = draw_annotation(sample.image, sample.annotation)
        cv2.putText(annotated, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        columns.append(np.concatenate([annotated, draw_instances(sample.image, sample.annotation)], axis=0))
    grid = np.concatenate(columns, axis=1)
    return np.concatenate([_legend(grid.shape[1]), grid], axis=0)


def _legend(width: int) -> np.ndarray:
    legend = np.full((26, width, 3), 32, np.uint8)
    x = 8
    items = [("full box", None), ("visible box", None), ("visible joint", None)] + [
        (name, colour) for name, colour in (("occluded by person", _RING_COLOURS[JointState.OCCLUDED_BY_PERSON]),
                                            ("by object", _RING_COLOURS[JointState.OCCLUDED_BY_OBJECT]),
                                            ("self-occluded", _RING_COLOURS[JointState.SELF_OCCLUDED]))]
    for name, colour in items:
        if name == "full box":
            cv2.rectangle(legend, (x, 7), (x + 12, 19), (80, 200, 255), 1)
        elif name == "visible box":
            cv2.rectangle(legend, (x, 7), (x + 12, 19), (255, 255, 255), 1)
        elif colour is None:
            cv2.circle(legend, (x + 6, 13), 4, (80, 200, 255), -1, cv2.LINE_AA)
        else:
            cv2.circle(legend, (x + 6, 13), 5, colour, 1, cv2.LINE_AA)
        cv2.putText(legend, name, (x + 18, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (230, 230, 230), 1, cv2.LINE_AA)
        x += 30 + 8 * len(name)
    return legend


def write_contact_sheet(path: str | Path, seed: int = 0, **kwargs) -> Path:
    """Render :func:`contact_sheet` and save it as PNG (maximum compression)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), contact_sheet(seed, **kwargs), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write {path}")
    return path
