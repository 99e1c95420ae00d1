"""MOTChallenge sequences: ``seqinfo.ini``, ``gt/gt.txt``, ``img1/`` and tracker result files.

Layout of a sequence folder (MOT15/16/17/20)::

    <seq>/seqinfo.ini            [Sequence] name, imDir, frameRate, seqLength, imWidth, imHeight, imExt
    <seq>/img1/000001.jpg        frames, 1-based, six digits
    <seq>/gt/gt.txt              frame, id, x, y, w, h, mark, class, visibility   (MOT16+)
                                 frame, id, x, y, w, h, mark, wx, wy, wz          (MOT15: no class)

Result files (what trackers submit, one per sequence) are
``frame, id, x, y, w, h, conf, -1, -1, -1``. Boxes are top-left ``xywh`` pixels; we use ``xyxy``
inside. Real ``seqinfo.ini`` files may omit keys (the MOT15 fixtures have only ``name`` and
``seqLength``) and may state a longer ``seqLength`` than the rows present: missing frames are
frames without people, never an error. Rows past ``seqLength`` are an error (TrackEval refuses
them too).

Reading (:func:`read_mot`) gives an :class:`AnnotatedDataset` with one item per frame: persons are
the rows with ``mark != 0`` whose class is pedestrian (1) or unknown (MOT15); ``visible_fractions``
come from the visibility column. Writing (:class:`MotWriter`) takes ``(FrameAnnotation, image)``
like the other writers, every person as a pedestrian with mark 1 (or a distractor when barely
visible, see :class:`MotWriter`); ignore regions have no MOTChallenge equivalent and are not written.
"""

from __future__ import annotations

import configparser
import logging
import math
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.boxes import xywh_to_xyxy, xyxy_to_xywh
from ..core.types import Tracks, TrackState
from .dataset import AnnotatedDataset, DatasetWriter, FormatError, LabelledImage, require, safe_name

__all__ = [
    "SeqInfo",
    "MotRows",
    "read_seqinfo",
    "write_seqinfo",
    "read_mot_rows",
    "write_mot_rows",
    "read_mot",
    "find_sequences",
    "MotWriter",
    "ResultsWriter",
]

PEDESTRIAN = 1
DISTRACTOR = 8
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeqInfo:
    """The ``[Sequence]`` section of ``seqinfo.ini`` (``None`` where the file does not say)."""

    name: str
    seq_length: int
    frame_rate: float | None = None
    width: int | None = None
    height: int | None = None
    im_dir: str = "img1"
    im_ext: str = ".jpg"


@dataclass(frozen=True)
class MotRows:
    """The rows of a ``gt.txt`` or results file as arrays (``classes``/``visibility`` -1 when absent)."""

    frames: np.ndarray  # (N,) int, 1-based
    ids: np.ndarray  # (N,) int
    boxes: np.ndarray  # (N, 4) xyxy
    confidences: np.ndarray  # (N,) mark (gt) or score (results)
    classes: np.ndarray  # (N,) int
    visibility: np.ndarray  # (N,) float

    def __len__(self) -> int:
        return len(self.frames)


def read_seqinfo(path: str | Path) -> SeqInfo:
    """Parse ``seqinfo.ini``; only ``seqLength`` is required (``name`` defaults to the folder name)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"seqinfo.ini not found: {path}")
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
        section = parser["Sequence"]
        info = SeqInfo(
            name=section.get("name", path.parent.name),
            seq_length=int(section["seqLength"]),
            frame_rate=float(section["frameRate"]) if "frameRate" in section else None,
            width=int(section["imWidth"]) if "imWidth" in section else None,
            height=int(section["imHeight"]) if "imHeight" in section else None,
            im_dir=section.get("imDir", "img1"),
            im_ext=section.get("imExt", ".jpg"),
        )
    except (configparser.Error, KeyError, ValueError) as error:
        raise FormatError(f"{path}: not a valid seqinfo.ini ({error!r})") from None
    require(info.seq_length >= 0, f"{path}: negative seqLength")
    return info


def write_seqinfo(path: str | Path, info: SeqInfo) -> None:
    """Write ``seqinfo.ini`` with every known key."""
    lines = ["[Sequence]", f"name={info.name}", f"imDir={info.im_dir}"]
    if info.frame_rate is not None:
        lines.append(f"frameRate={info.frame_rate:g}")
    lines.append(f"seqLength={info.seq_length}")
    if info.width is not None and info.height is not None:
        lines += [f"imWidth={info.width}", f"imHeight={info.height}"]
    lines.append(f"imExt={info.im_ext}")
    _write_text(Path(path), "\n".join(lines) + "\n")


def read_mot_rows(path: str | Path, min_columns: int = 6) -> MotRows:
    """Parse a MOTChallenge text file (comma or whitespace separated, at least ``min_columns`` columns).

    Class and visibility are read only from 9-column files (MOT16+ ground truth). Every row is
    checked where it is read, and a fault is a :class:`FormatError` naming ``file:line``: a row
    shorter than ``min_columns`` (or than the file's other rows), a value that is not a number,
    a NaN or infinite value, a frame number that is not an integer >= 1, a negative width or height.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MOT file not found: {path}")
    rows: list[list[float]] = []
    lines: list[int] = []
    width = None
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.replace(",", " ").split()
            if not fields:
                continue
            where = f"{path}:{number}"
            if len(fields) < min_columns:
                raise FormatError(f"{where}: {len(fields)} columns, expected at least {min_columns} "
                                  "(frame, id, x, y, w, h, ...)")
            if width is not None and len(fields) != width:
                raise FormatError(f"{where}: {len(fields)} columns, the rows above have {width}")
            width = len(fields)
            try:
                values = [float(v) for v in fields]
            except ValueError:
                bad = next(v for v in fields if not _is_number(v))
                raise FormatError(f"{where}: {bad!r} is not a number") from None
            if not all(math.isfinite(v) for v in values):
                raise FormatError(f"{where}: non-finite value ({', '.join(fields)})")
            if values[0] < 1 or values[0] != int(values[0]):
                raise FormatError(f"{where}: frame number {fields[0]} is not an integer >= 1")
            if values[4] < 0 or values[5] < 0:
                raise FormatError(f"{where}: negative box size (w {fields[4]}, h {fields[5]})")
            rows.append(values)
            lines.append(number)
    if not rows:
        return MotRows(np.zeros(0, int), np.zeros(0, int), np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), np.zeros(0))
    data = np.array(rows, dtype=np.float64)
    n = len(data)
    column = lambda i, fill: data[:, i] if data.shape[1] > i else np.full(n, fill, dtype=float)  # noqa: E731
    # 9 columns: MOT16+ ground truth with class and visibility; 10: MOT15 gt (world x, y, z) or a results file.
    mot15 = data.shape[1] != 9
    return MotRows(
        frames=data[:, 0].astype(np.int64),
        ids=data[:, 1].astype(np.int64),
        boxes=xywh_to_xyxy(data[:, 2:6]),
        confidences=column(6, 1.0),
        classes=np.full(n, -1, dtype=np.int64) if mot15 else column(7, -1).astype(np.int64),
        visibility=np.full(n, -1.0) if mot15 else column(8, -1.0),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_mot_rows(path: str | Path, rows: MotRows, gt: bool) -> None:
    """Write rows as ``gt.txt`` (``gt=True``: mark, class, visibility) or as a results file."""
    xywh = xyxy_to_xywh(np.asarray(rows.boxes, dtype=np.float64))
    order = np.lexsort((rows.ids, rows.frames))
    out = []
    for i in order:
        box = ",".join(f"{v:.2f}" for v in xywh[i])
        if gt:
            out.append(
                f"{rows.frames[i]},{rows.ids[i]},{box},{rows.confidences[i]:g},{rows.classes[i]},{rows.visibility[i]:.4g}"
            )
        else:
            out.append(f"{rows.frames[i]},{rows.ids[i]},{box},{rows.confidences[i]:.4f},-1,-1,-1")
    _write_text(Path(path), "".join(line + "\n" for line in out))


def find_sequences(root: str | Path) -> list[Path]:
    """Sequence folders (with ``seqinfo.ini``) at ``root`` itself or one level below, sorted."""
    root = Path(root)
    if (root / "seqinfo.ini").is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"MOTChallenge folder not found: {root}")
    sequences = sorted(p for p in root.iterdir() if (p / "seqinfo.ini").is_file())
    if not sequences:
        raise FormatError(f"{root}: no sequence folders with seqinfo.ini")
    return sequences


def read_mot(root: str | Path) -> AnnotatedDataset:
    """Ground truth of one sequence folder or a folder of sequences, one item per frame.

    ``meta`` holds ``ignored`` (rows with mark 0 or a non-pedestrian class, as ``MotRows``
    indices are not kept: the count per frame) so that nothing read is silently lost.
    """
    records = []
    for seq_dir in find_sequences(root):
        info = read_seqinfo(seq_dir / "seqinfo.ini")
        rows = read_mot_rows(seq_dir / "gt" / "gt.txt")
        require(
            len(rows) == 0 or rows.frames.max() <= info.seq_length,
            f"{seq_dir}/gt/gt.txt: frame {rows.frames.max() if len(rows) else 0} beyond seqLength {info.seq_length}",
        )
        by_frame = defaultdict(list)
        for i, frame in enumerate(rows.frames):
            by_frame[int(frame)].append(i)
        present = _frames_present(seq_dir, info)
        unlabelled_rows = sum(len(v) for f, v in by_frame.items() if f not in set(present))
        if unlabelled_rows and len(present) < info.seq_length:
            _LOG.warning("%s: %d of %d frames present in %s/; %d ground-truth rows of absent frames not used",
                         seq_dir, len(present), info.seq_length, info.im_dir, unlabelled_rows)
        for frame in present:
            records.append((seq_dir, info, rows, np.asarray(by_frame.get(frame, []), dtype=np.int64), frame))

    return AnnotatedDataset(f"mot:{Path(root).name}", records, _decode_record, group=_sequence_name)


def _frames_present(seq_dir: Path, info: SeqInfo) -> list[int]:
    """The frames of a sequence: those whose image is in the image folder, up to ``seqLength``.

    People trim sequences (and share ground truth without images): ``seqLength`` only bounds the
    frames. Without an image folder at all (annotation-only copies) every frame up to ``seqLength``
    counts.
    """
    folder = seq_dir / info.im_dir
    if not folder.is_dir():
        return list(range(1, info.seq_length + 1))
    frames = []
    for path in folder.iterdir():
        if path.suffix.lower() == info.im_ext.lower() and path.stem.isdigit():
            frame = int(path.stem)
            if 1 <= frame <= info.seq_length:
                frames.append(frame)
    return sorted(frames)


def _decode_record(record) -> LabelledImage:
    """One frame of a sequence (module level so that datasets pickle into DataLoader workers)."""
    seq_dir, info, rows, index, frame = record
    keep = (rows.confidences[index] != 0) & np.isin(rows.classes[index], (PEDESTRIAN, -1))
    sel = index[keep]
    vis = rows.visibility[sel]
    persons = PersonAnnotations(
        "body22", rows.boxes[sel], ids=rows.ids[sel], visible_fractions=np.where(vis >= 0, vis, np.nan)
    )
    annotation = FrameAnnotation(
        image_id=f"{info.name}/{frame:06d}",
        width=info.width or 0,
        height=info.height or 0,
        persons=persons,
        stamp_ns=round((frame - 1) * 1e9 / info.frame_rate) if info.frame_rate else 0,
        sequence=info.name,
        frame_index=frame - 1,
    )
    image = seq_dir / info.im_dir / f"{frame:06d}{info.im_ext}"
    return LabelledImage(image, annotation, {"ignored": int((~keep).sum()), "frame_rate": info.frame_rate})


def _sequence_name(record) -> str:
    return record[1].name


class MotWriter(DatasetWriter):
    """Writes ``<out_dir>/<split>/<seq>/img1/000001.jpg``, ``gt/gt.txt`` and ``seqinfo.ini``.

    Frames are numbered from ``annotation.frame_index + 1``; every person needs a known id. The
    ground truth of a sequence is buffered and written on ``close``. :meth:`add_annotation`
    records a frame without an image (for annotation-only exports such as tracking benchmarks).
    People whose known visible fraction is below ``ignore_below_visibility`` are written as class
    8 (distractor): MOT16+ evaluation neither rewards nor penalises tracks on them.
    """

    format_name = "mot"

    def __init__(
        self, out_dir: str | Path, split: str = "train", fps: float = 30.0, ignore_below_visibility: float = 0.0, **kw
    ) -> None:
        super().__init__(out_dir, split, **kw)
        self.fps = float(fps)
        self.ignore_below_visibility = float(ignore_below_visibility)
        self._rows: dict[str, list[tuple]] = defaultdict(list)
        self._info: dict[str, SeqInfo] = {}

    def sequence_dir(self, annotation: FrameAnnotation) -> Path:
        return Path(self.split) / safe_name(annotation.sequence or "seq")

    def image_path(self, annotation: FrameAnnotation) -> Path:
        return self.sequence_dir(annotation) / "img1" / f"{annotation.frame_index + 1:06d}{self.image_ext}"

    def add_annotation(self, annotation: FrameAnnotation) -> None:
        """Record the ground truth of a frame whose image is not written."""
        if self._closed:
            raise RuntimeError(f"mot writer for {self.out_dir} is closed")
        self._add(annotation, self.out_dir / self.image_path(annotation))

    def _add(self, annotation: FrameAnnotation, image_path: Path) -> None:
        persons = annotation.persons
        ids = persons.ids
        if np.any(ids < 0) or len(np.unique(ids)) != len(ids):
            raise ValueError(f"{annotation.image_id}: MOTChallenge ground truth needs known, unique person ids")
        seq = str(self.sequence_dir(annotation))
        frame = annotation.frame_index + 1
        info = self._info.get(seq)
        size = (annotation.width, annotation.height)
        if info is not None and (info.width, info.height) != size:
            raise ValueError(f"{annotation.image_id}: image size changed within sequence {seq}")
        self._info[seq] = SeqInfo(
            name=Path(seq).name,
            seq_length=max(frame, info.seq_length if info else 0),
            frame_rate=self.fps,
            width=annotation.width,
            height=annotation.height,
            im_ext=self.image_ext,
        )
        vis = np.nan_to_num(persons.visible_fractions.astype(np.float64), nan=-1.0)
        classes = np.where((vis >= 0) & (vis < self.ignore_below_visibility), DISTRACTOR, PEDESTRIAN)
        for i in range(len(persons)):
            self._rows[seq].append((frame, int(ids[i]), persons.boxes[i].astype(np.float64), vis[i], classes[i]))

    def _finish(self) -> None:
        for seq, info in self._info.items():
            rows = self._rows[seq]
            n = len(rows)
            mot = MotRows(
                frames=np.array([r[0] for r in rows], dtype=np.int64),
                ids=np.array([r[1] for r in rows], dtype=np.int64),
                boxes=np.array([r[2] for r in rows]).reshape(n, 4),
                confidences=np.ones(n),
                classes=np.array([r[4] for r in rows], dtype=np.int64),
                visibility=np.array([r[3] for r in rows]),
            )
            write_mot_rows(self.out_dir / seq / "gt" / "gt.txt", mot, gt=True)
            write_seqinfo(self.out_dir / seq / "seqinfo.ini", info)


class ResultsWriter:
    """Collects tracker output per frame and writes one MOTChallenge results file.

    Only confirmed tracks are written (JDE reports tracked, activated tracks: exactly those
    updated by a detection in this frame), with their Kalman box and last detection score.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._rows: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, frame: int, tracks: Tracks) -> None:
        """Record the tracks of 1-based ``frame``."""
        keep = tracks.states == TrackState.CONFIRMED
        self._rows.append((int(frame), tracks.ids[keep], tracks.boxes[keep].astype(np.float64), tracks.scores[keep]))

    def close(self) -> None:
        frames = np.concatenate([np.full(len(ids), f) for f, ids, _, _ in self._rows] or [np.zeros(0, int)])
        n = len(frames)
        rows = MotRows(
            frames=frames.astype(np.int64),
            ids=np.concatenate([r[1] for r in self._rows] or [np.zeros(0, int)]),
            boxes=np.concatenate([r[2] for r in self._rows] or [np.zeros((0, 4))]),
            confidences=np.concatenate([r[3] for r in self._rows] or [np.zeros(0)]),
            classes=np.full(n, -1),
            visibility=np.full(n, -1.0),
        )
        write_mot_rows(self.path, rows, gt=False)

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _write_text(path: Path, text: str) -> None:
    """Write atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
