"""CrowdHuman ``.odgt`` (one JSON record per line): reader and writer.

Each record has an ``ID`` (image ``Images/<ID>.jpg``) and ``gtboxes``, each with ``fbox``
(full body), ``vbox`` (visible), ``hbox`` (head), all ``[x, y, w, h]``, and a ``tag``.
``tag == "person"`` rows become persons unless ``extra.ignore == 1``; those and ``tag == "mask"``
rows (crowds, reflections, posters) become ignore regions (their ``fbox``), which is how the
CrowdHuman evaluation treats them.

Reading fills ``boxes`` (fbox), ``visible_boxes`` (vbox; joints stay unknown under the
``body22`` skeleton) and ``visible_fractions`` as the
visible-box area over the full-box area (the CityPersons definition of visibility; the odgt
has no pixel-level visibility). ``meta`` carries ``head_boxes`` (``(N, 4)`` xyxy, NaN where
absent), ``occluded`` (``extra.occ``) and ``head_occluded`` (``head_attr.occ``), aligned with
the persons. The odgt has no image size: it comes from ``sizes`` (an ``{ID: [h, w]}`` mapping
or JSON file, as mmdetection's ``id_hw`` files), else the image header, else 0 (unknown).

Writing derives ``hbox`` from the head joints (:func:`~crowd_perception.formats.convert.head_boxes`),
sets ``extra.occ`` when the visible box covers less than 90 % of the in-image part of the full
box (occlusion, not truncation by the image border, as in the real data) and ``head_attr.occ``
when no head joint is visible. Identities go to ``extra.track_id`` (our addition).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.boxes import box_area, clip_boxes, xywh_to_xyxy
from ..core.skeletons import get_skeleton
from ..core.types import JointState
from .convert import head_boxes, xywh_list
from .dataset import (
    AnnotatedDataset,
    DatasetWriter,
    FormatError,
    LabelledImage,
    image_size,
    load_json,
    require,
    safe_name,
)

__all__ = ["read_crowdhuman", "CrowdHumanWriter", "OCCLUDED_BELOW"]

OCCLUDED_BELOW = 0.9  # visible / in-image box area under which the writer sets extra.occ
_HEAD_JOINTS = ("head_top", "nose", "left_eye", "right_eye", "left_ear", "right_ear")


def read_crowdhuman(
    odgt_path: str | Path,
    image_root: str | Path | None = None,
    sizes: Mapping[str, Any] | str | Path | None = None,
) -> AnnotatedDataset:
    """Index a ``.odgt`` file (all lines parsed and checked now, annotations built on access).

    ``image_root`` defaults to ``Images/`` beside the file when it exists, else the file's folder.
    """
    odgt_path = Path(odgt_path)
    if not odgt_path.is_file():
        raise FileNotFoundError(f"annotation file not found: {odgt_path}")
    records = []
    with open(odgt_path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if line.strip():
                records.append(_parse_record(odgt_path, line_no, line))
    if image_root is None:
        image_root = odgt_path.parent / "Images" if (odgt_path.parent / "Images").is_dir() else odgt_path.parent
    root = Path(image_root)
    size_map = load_json(sizes) if isinstance(sizes, (str, Path)) else dict(sizes or {})

    return AnnotatedDataset(f"crowdhuman:{odgt_path.name}", records, partial(_decode, root, size_map))


def _decode(root: Path, size_map: dict[str, Any], record: dict) -> LabelledImage:
    """One item (module level so the dataset pickles into spawned DataLoader workers)."""
    path = root / f"{record['ID']}.jpg"
    if not path.is_file() and path.with_suffix(".png").is_file():
        path = path.with_suffix(".png")  # our writer's lossless option
    if record["ID"] in size_map:
        height, width = (int(v) for v in size_map[record["ID"]])
    elif path.is_file():
        width, height = image_size(path)
    else:
        width = height = 0
    annotation, meta = _frame_annotation(record, width, height)
    return LabelledImage(path, annotation, meta)


def _parse_record(path: Path, line_no: int, line: str) -> dict:
    where = f"{path}:{line_no}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise FormatError(f"{where}: not valid JSON ({error})") from None
    require(isinstance(record, dict) and isinstance(record.get("ID"), str), f"{where}: record needs a string 'ID'")
    require(isinstance(record.get("gtboxes"), list), f"{where}: record needs a 'gtboxes' list")
    for box in record["gtboxes"]:
        require(isinstance(box, dict), f"{where}: gtboxes entry is not an object")
        tag = box.get("tag")
        require(tag in ("person", "mask"), f"{where}: unknown tag {tag!r} (expected 'person' or 'mask')")
        for key in ("fbox", "vbox", "hbox"):
            value = box.get(key)
            require(
                (value is None and key == "hbox") or (isinstance(value, list) and len(value) == 4),
                f"{where}: {key} must be [x, y, w, h], got {value!r}",
            )
    return record


def _is_ignore(box: dict) -> bool:
    return box["tag"] == "mask" or bool((box.get("extra") or {}).get("ignore", 0))


def _frame_annotation(record: dict, width: int, height: int) -> tuple[FrameAnnotation, dict[str, Any]]:
    people = [b for b in record["gtboxes"] if not _is_ignore(b)]
    ignored = [b for b in record["gtboxes"] if _is_ignore(b)]

    def boxes(rows: list[dict], key: str) -> np.ndarray:
        values = [b[key] if b.get(key) is not None else [np.nan] * 4 for b in rows]
        return xywh_to_xyxy(np.array(values, dtype=np.float64).reshape(-1, 4)).astype(np.float32)

    full, visible = boxes(people, "fbox"), boxes(people, "vbox")
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.clip(box_area(visible) / box_area(full), 0.0, 1.0)
    persons = PersonAnnotations(
        "body22",
        full,
        visible_boxes=visible,
        ids=np.array([(b.get("extra") or {}).get("track_id", -1) for b in people], dtype=np.int64),
        visible_fractions=fractions,
    )
    meta = {
        "head_boxes": boxes(people, "hbox"),
        "occluded": np.array([bool((b.get("extra") or {}).get("occ", 0)) for b in people]),
        "head_occluded": np.array([bool((b.get("head_attr") or {}).get("occ", 0)) for b in people]),
    }
    annotation = FrameAnnotation(record["ID"], width, height, persons, ignore_regions=boxes(ignored, "fbox"))
    return annotation, meta


class CrowdHumanWriter(DatasetWriter):
    """Writes ``Images/<ID>.jpg`` and streams ``annotation_<split>.odgt`` (one line per image)."""

    format_name = "crowdhuman"

    def __init__(self, out_dir: str | Path, split: str = "train", **kw):
        super().__init__(out_dir, split, **kw)
        self.odgt_path = self.out_dir / f"annotation_{self.split}.odgt"
        self.odgt_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.odgt_path, "w", encoding="utf-8")  # closed in _finish

    def image_path(self, annotation: FrameAnnotation) -> Path:
        return Path("Images") / f"{safe_name(annotation.image_id)}{self.image_ext}"

    def _add(self, annotation: FrameAnnotation, image_path: Path) -> None:
        record = {"ID": image_path.stem, "gtboxes": [*_person_boxes(annotation), *_ignore_boxes(annotation)]}
        self._file.write(json.dumps(record, separators=(", ", ": "), allow_nan=False) + "\n")
        self._file.flush()

    def _finish(self) -> None:
        self._file.close()



def _person_boxes(annotation: FrameAnnotation) -> list[dict]:
    persons = annotation.persons
    heads = head_boxes(persons)
    head_occluded = _head_hidden(persons)
    in_image = clip_boxes(persons.boxes.astype(np.float64), annotation.width, annotation.height)
    with np.errstate(invalid="ignore", divide="ignore"):
        cover = box_area(persons.visible_boxes.astype(np.float64)) / box_area(in_image)
    rows: list[dict[str, Any]] = []
    for i in range(len(persons)):
        if not np.isfinite(persons.visible_boxes[i]).all() or persons.visible_fractions[i] == 0:
            continue  # nobody to see: CrowdHuman annotates visible people only
        row: dict[str, Any] = {"tag": "person", "fbox": xywh_list(persons.boxes[i]), "vbox": xywh_list(persons.visible_boxes[i])}
        extra: dict[str, Any] = {"box_id": len(rows), "occ": int(cover[i] < OCCLUDED_BELOW)}
        if persons.ids[i] >= 0:
            extra["track_id"] = int(persons.ids[i])
        if np.isfinite(heads[i]).all():
            row["hbox"] = xywh_list(heads[i])
            row["head_attr"] = {"ignore": 0, "occ": int(head_occluded[i]), "unsure": 0}
        else:
            row["head_attr"] = {"ignore": 1, "occ": 0, "unsure": 0}
        row["extra"] = extra
        rows.append(row)
    return rows


def _head_hidden(persons: PersonAnnotations) -> np.ndarray:
    skeleton = get_skeleton(persons.skeleton)
    joints = [skeleton.index(j) for j in _HEAD_JOINTS if j in skeleton.joints]
    if not joints:
        return np.zeros(len(persons), dtype=bool)
    return ~(persons.keypoint_states[:, joints] == JointState.VISIBLE).any(1)


def _ignore_boxes(annotation: FrameAnnotation) -> list[dict]:
    rows = []
    for box in annotation.ignore_regions:
        xywh = xywh_list(box)
        rows.append({"tag": "mask", "fbox": xywh, "vbox": xywh, "hbox": xywh, "head_attr": {}, "extra": {"ignore": 1}})
    return rows
