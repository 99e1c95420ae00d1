"""JTA (Fabbri et al., ECCV 2018) per-sequence joint annotations: reader and a JTA-like writer.

Real layout: ``annotations/<split>/seq_<n>.json`` holds an ``(N, 10)`` matrix, one row per joint:
``[frame, person_id, joint_type, x2D, y2D, x3D, y3D, z3D, occluded, self_occluded]`` with frames
counted from 1, 3D in metres in the camera frame (x right, y down, z forward) and the joint types
of :data:`~crowd_perception.core.skeletons.JTA22`. Frames are extracted by JTA's ``to_imgs.py``
to ``frames/<split>/seq_<n>/<frame>.jpg``; every sequence uses ``K = [[1158, 0, 960], [0, 1158,
540], [0, 0, 1]]`` at 1920x1080 and 30 fps.

Our writer keeps the same matrix but adds a sidecar ``<seq>.camera.json`` with the intrinsics,
image size, fps, domain, frame numbers and the skeleton of ``joint_type`` (``body22`` for
synthetic data, so nothing is invented for JTA joints our body lacks). The reader uses the
sidecar when present and JTA's constants otherwise.

States: ``occluded`` -> ``OCCLUDED``, else ``self_occluded`` -> ``SELF_OCCLUDED``, a joint
projecting outside the image -> ``OUTSIDE_IMAGE``, else ``VISIBLE``; the writer maps any
"hidden by something" state to ``occluded``, so the cause (person / object) does not survive.
Boxes are the extent of all 2D joints (the format has none); distances the root joint's norm.

Reading is lazy: the index only needs frame numbers (sidecar, else the frame images, else the
matrix); matrices are parsed on access and the last ``cache_sequences`` are kept, so a sampler
that visits one sequence at a time (``dataset.groups()``) parses each once, and with
``cache_dir`` each is parsed once ever and then memory-mapped from a ``.npy`` file.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.camera import PinholeCamera
from ..core.skeletons import get_skeleton
from ..core.types import JointState
from .convert import convert_persons, keypoint_boxes
from .dataset import (
    AnnotatedDataset,
    DatasetWriter,
    FormatError,
    LabelledImage,
    load_json,
    require,
    safe_name,
    write_json,
)

__all__ = ["read_jta", "JtaWriter", "JTA_CAMERA", "JTA_FPS"]

JTA_CAMERA = PinholeCamera(1158.0, 1158.0, 960.0, 540.0, 1920, 1080)
JTA_FPS = 30.0
_SIDECAR = ".camera.json"
_HIDDEN = (JointState.OCCLUDED, JointState.OCCLUDED_BY_PERSON, JointState.OCCLUDED_BY_OBJECT)


class _Sequence:
    """One annotation file, its sidecar information and (lazily) its parsed matrix."""

    def __init__(self, path: Path, frames_dir: Path, cache_dir: Path | None = None):
        self.path = path
        self.name = path.name[: -len(".json")]
        self.frames_dir = frames_dir
        self.cached = cache_dir / f"{path.parent.name}_{self.name}.npy" if cache_dir is not None else None
        sidecar = path.with_name(self.name + _SIDECAR)
        info: dict[str, Any] = load_json(sidecar) if sidecar.is_file() else {}
        require(isinstance(info, dict), f"{sidecar}: must be an object")
        try:
            size = info.get("image_size", [JTA_CAMERA.width, JTA_CAMERA.height])
            k = info.get("camera")
            self.camera = (
                PinholeCamera(k["fx"], k["fy"], k["cx"], k["cy"], int(size[0]), int(size[1])) if k else JTA_CAMERA
            )
            self.skeleton = get_skeleton(info.get("skeleton", "jta22")).name
            self.fps = float(info.get("fps", JTA_FPS))
            self.domain = str(info.get("domain", ""))
            self.image_ext = str(info.get("image_ext", ".jpg"))
            frames = info.get("frames")
        except (KeyError, TypeError, ValueError) as error:
            raise FormatError(f"{sidecar}: malformed sidecar ({error})") from None
        self.frames = [int(f) for f in frames] if frames is not None else self._frames_from_images_or_matrix()

    def _frames_from_images_or_matrix(self) -> list[int]:
        if self.frames_dir.is_dir():
            numbers = [int(p.stem) for p in self.frames_dir.iterdir() if p.stem.isdigit()]
            if numbers:
                return sorted(numbers)
        return sorted(int(f) for f in np.unique(self.load()[:, 0]))

    def load(self) -> np.ndarray:
        """The ``(N, 10)`` matrix sorted by frame, person and joint (memory-mapped from the ``.npy``
        cache when there is an up-to-date one; parsing a real JTA sequence takes seconds)."""
        if self.cached is not None and self.cached.is_file() and self.cached.stat().st_mtime >= self.path.stat().st_mtime:
            return np.load(self.cached, mmap_mode="r")
        matrix = self._parse()
        if self.cached is not None:
            self.cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cached.with_name(self.cached.name + ".tmp")
            with open(tmp, "wb") as f:
                np.save(f, matrix)
            os.replace(tmp, self.cached)
        return matrix

    def _parse(self) -> np.ndarray:
        data = load_json(self.path)
        try:
            matrix = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError):
            raise FormatError(f"{self.path}: expected a matrix of numbers (list of 10-value rows)") from None
        if matrix.size == 0:
            return np.zeros((0, 10))
        require(matrix.ndim == 2 and matrix.shape[1] == 10, f"{self.path}: rows must have 10 values, got {matrix.shape}")
        num_joints = get_skeleton(self.skeleton).num_joints
        joints = matrix[:, 2]
        require(
            bool(np.all((joints >= 0) & (joints < num_joints) & (joints == np.round(joints)))),
            f"{self.path}: joint_type outside 0..{num_joints - 1} for skeleton {self.skeleton}",
        )
        return matrix[np.lexsort((matrix[:, 2], matrix[:, 1], matrix[:, 0]))]


class _Index:
    """Frame index over the sequences plus the cache of parsed matrices (used by :func:`read_jta`)."""

    def __init__(self, sequences: list[_Sequence], skeleton: str, cache_sequences: int):
        self.sequences = sequences
        self.skeleton = skeleton
        self.cache_sequences = max(1, int(cache_sequences))
        self._cache: OrderedDict[int, tuple[np.ndarray, dict[int, slice]]] = OrderedDict()
        self.records = [(s, f) for s, seq in enumerate(sequences) for f in seq.frames]

    def _rows(self, seq_index: int, frame: int) -> np.ndarray:
        if seq_index not in self._cache:
            matrix = self.sequences[seq_index].load()
            starts = np.flatnonzero(np.diff(matrix[:, 0], prepend=np.nan) != 0)
            ends = np.append(starts[1:], len(matrix))
            slices = {int(matrix[s, 0]): slice(s, e) for s, e in zip(starts, ends, strict=True)}
            self._cache[seq_index] = (matrix, slices)
            while len(self._cache) > self.cache_sequences:
                self._cache.popitem(last=False)
        self._cache.move_to_end(seq_index)
        matrix, slices = self._cache[seq_index]
        return matrix[slices[frame]] if frame in slices else np.zeros((0, 10))

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the parsed matrices (DataLoader workers parse their own)."""
        return {**self.__dict__, "_cache": OrderedDict()}

    def sequence_name(self, record: tuple[int, int]) -> str:
        return str(self.sequences[record[0]].path)

    def decode(self, record: tuple[int, int]) -> LabelledImage:
        seq_index, frame = record
        seq = self.sequences[seq_index]
        rows = self._rows(seq_index, frame)
        persons = convert_persons(_persons(rows, seq.skeleton, seq.camera), self.skeleton)
        annotation = FrameAnnotation(
            image_id=f"{seq.name}_{frame:06d}",
            width=seq.camera.width,
            height=seq.camera.height,
            persons=persons,
            camera=seq.camera,
            stamp_ns=round((frame - 1) * 1e9 / seq.fps),
            sequence=seq.name,
            frame_index=frame - 1,
            domain=seq.domain,
        )
        image_path = seq.frames_dir / f"{frame}{seq.image_ext}"
        if not image_path.is_file() and (seq.frames_dir / f"{frame}.png").is_file():
            image_path = seq.frames_dir / f"{frame}.png"
        return LabelledImage(image_path, annotation, {"sequence_index": seq_index, "frame": frame})


def _persons(rows: np.ndarray, skeleton: str, camera: PinholeCamera) -> PersonAnnotations:
    k = get_skeleton(skeleton).num_joints
    ids, person_of_row = np.unique(rows[:, 1].astype(np.int64), return_inverse=True)
    joint = rows[:, 2].astype(np.int64)
    keypoints = np.full((len(ids), k, 2), np.nan)
    joints_3d = np.full((len(ids), k, 3), np.nan)
    states = np.full((len(ids), k), JointState.UNKNOWN, dtype=np.uint8)
    keypoints[person_of_row, joint] = rows[:, 3:5]
    joints_3d[person_of_row, joint] = rows[:, 5:8]
    row_states = np.full(len(rows), JointState.VISIBLE, dtype=np.uint8)
    row_states[~camera.in_image(rows[:, 3:5])] = JointState.OUTSIDE_IMAGE
    row_states[rows[:, 9] > 0] = JointState.SELF_OCCLUDED
    row_states[rows[:, 8] > 0] = JointState.OCCLUDED
    states[person_of_row, joint] = row_states
    root = get_skeleton(skeleton).root
    distances = np.linalg.norm(joints_3d[:, root], axis=-1) if root is not None else None
    return PersonAnnotations(
        skeleton,
        keypoint_boxes(keypoints),
        ids=ids,
        keypoints=keypoints,
        keypoint_states=states,
        joints_3d=joints_3d,
        distances=distances,
    )


def read_jta(
    path: str | Path,
    frames_root: str | Path | None = None,
    *,
    skeleton: str = "body22",
    cache_sequences: int = 2,
    cache_dir: str | Path | None = None,
) -> AnnotatedDataset:
    """Index one ``seq_*.json`` or a folder of them (searched recursively).

    Poses are returned in ``skeleton`` (default ``body22``: JTA's spine4/spine2/spine0 are our
    pelvis/spine/chest; JTA has no face points, so those stay NaN). ``frames_root`` is the
    folder holding ``<split>/<seq>/<frame>.jpg``; by default ``frames/`` beside ``annotations/``.
    ``cache_dir`` keeps every parsed sequence as ``<split>_<seq>.npy`` (memory-mapped afterwards),
    which makes shuffled access over the whole dataset cheap; without it, keep samplers within a
    sequence (``dataset.groups()``) or raise ``cache_sequences``.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if not p.name.endswith(_SIDECAR))
        require(bool(files), f"{path}: no sequence annotation (*.json) found")
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(f"annotation file or folder not found: {path}")
    get_skeleton(skeleton)
    cache = Path(cache_dir) if cache_dir is not None else None
    sequences = [_Sequence(f, _frames_dir(f, frames_root), cache) for f in files]
    index = _Index(sequences, skeleton, cache_sequences)
    return AnnotatedDataset(f"jta:{path.name}", index.records, index.decode, group=index.sequence_name)


def _frames_dir(annotation_file: Path, frames_root: str | Path | None) -> Path:
    split = annotation_file.parent.name
    seq = annotation_file.name[: -len(".json")]
    if frames_root is not None:
        root = Path(frames_root)
        return root / split / seq if (root / split / seq).is_dir() else root / seq
    annotations_dir = annotation_file.parent.parent
    return annotations_dir.parent / "frames" / split / seq


class JtaWriter(DatasetWriter):
    """Writes ``frames/<split>/<seq>/<frame>.jpg``, ``annotations/<split>/<seq>.json`` and the sidecar.

    Frames are buffered per sequence and every sequence file is written on ``close``. Frames need
    intrinsics (``annotation.camera``), constant within a sequence.
    """

    format_name = "jta"

    def __init__(self, out_dir: str | Path, split: str = "train", fps: float = JTA_FPS, **kw):
        super().__init__(out_dir, split, **kw)
        self.fps = float(fps)
        self._rows: dict[str, list[list]] = defaultdict(list)
        self._info: dict[str, dict[str, Any]] = {}

    def _sequence(self, annotation: FrameAnnotation) -> str:
        return safe_name(annotation.sequence or "seq")

    def image_path(self, annotation: FrameAnnotation) -> Path:
        return Path("frames") / self.split / self._sequence(annotation) / f"{annotation.frame_index + 1}{self.image_ext}"

    def _add(self, annotation: FrameAnnotation, image_path: Path) -> None:
        if annotation.camera is None:
            raise ValueError(f"{annotation.image_id}: the JTA-like format needs camera intrinsics")
        ids = annotation.persons.ids
        if np.any(ids < 0) or len(np.unique(ids)) != len(ids):
            raise ValueError(f"{annotation.image_id}: JTA rows are keyed by person id; ids must be known and unique")
        seq = self._sequence(annotation)
        c = annotation.camera
        info = {
            "skeleton": annotation.persons.skeleton,
            "camera": {"fx": c.fx, "fy": c.fy, "cx": c.cx, "cy": c.cy},
            "image_size": [annotation.width, annotation.height],
            "fps": self.fps,
            "domain": annotation.domain,
            "image_ext": self.image_ext,
        }
        previous = self._info.setdefault(seq, {**info, "frames": []})
        if {k: previous[k] for k in info} != info:
            raise ValueError(f"{annotation.image_id}: camera, size, skeleton or domain changed within sequence {seq}")
        previous["frames"].append(annotation.frame_index + 1)
        self._rows[seq].extend(_rows(annotation))

    def _finish(self) -> None:
        folder = self.out_dir / "annotations" / self.split
        for seq, info in self._info.items():
            write_json(folder / f"{seq}.json", self._rows[seq])
            (folder / f"{seq}{_SIDECAR}").write_text(json.dumps(info, indent=1), encoding="utf-8")


def _rows(annotation: FrameAnnotation) -> list[list]:
    persons = annotation.persons
    frame = annotation.frame_index + 1
    rows = []
    for i in range(len(persons)):
        for j in range(persons.keypoints.shape[1]):
            xy, xyz, state = persons.keypoints[i, j], persons.joints_3d[i, j], persons.keypoint_states[i, j]
            if not (np.isfinite(xy).all() and np.isfinite(xyz).all()):
                continue  # JTA rows carry both positions; a joint without them is left out
            rows.append(
                [frame, int(persons.ids[i]), j, *np.round(xy.astype(np.float64), 3).tolist(),
                 *np.round(xyz.astype(np.float64), 5).tolist(), int(state in _HIDDEN),
                 int(state == JointState.SELF_OCCLUDED)]
            )
    return rows
