"""CityPersons: reader for ``val_gt.json`` (COCO style) and ``anno_*.mat``, writer of the JSON.

JSON: ``images`` ``{id, im_name, height, width}``; ``annotations`` ``{bbox, vis_bbox`` (both
``[x, y, w, h]``), ``category_id, ignore, iscrowd, height, vis_ratio}``. Pedestrians
(``category_id`` in ``person_classes``, default 1) with ``ignore == 0`` become persons; every
other annotation (riders, sitting people, groups, fake people: class 0 or ``ignore == 1``)
becomes an ignore region, which is what the CityPersons evaluation does with them.
``vis_ratio`` (visible-box area / full-box area) becomes ``visible_fractions``; joints stay
unknown under the ``body22`` skeleton.

``.mat``: one cell per image with ``cityname``, ``im_name`` and ``bbs`` rows
``[class, x, y, w, h, instance_id, x_vis, y_vis, w_vis, h_vis]``; Cityscapes images are 2048x1024.

Images live in ``leftImg8bit/<split>/<city>/<im_name>`` where ``<city>`` is the name before the
last three ``_`` fields. ``meta["iscrowd"]`` marks the ignore regions that are crowds (matched
by intersection over the detection), aligned with ``ignore_regions``.

The writer produces the same JSON (plus ``track_id``), with ``vis_ratio`` computed from the boxes
as in the real file; people without visible pixels are left out.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.boxes import box_area, xywh_to_xyxy
from .convert import xywh_list
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

__all__ = ["read_citypersons", "CityPersonsWriter", "CATEGORIES", "CITYSCAPES_SIZE"]

CATEGORIES = [
    {"id": 1, "name": "pedestrian"},
    {"id": 2, "name": "rider"},
    {"id": 3, "name": "sitting person"},
    {"id": 4, "name": "other person"},
    {"id": 5, "name": "people group"},
    {"id": 0, "name": "ignore region"},
]
CITYSCAPES_SIZE = (2048, 1024)  # width, height of every Cityscapes image
_GROUP = 5


def read_citypersons(
    path: str | Path, image_root: str | Path | None = None, person_classes: tuple[int, ...] = (1,)
) -> AnnotatedDataset:
    """Index a CityPersons ``.json`` or ``.mat`` annotation file.

    ``image_root`` is the ``leftImg8bit/<split>`` folder (images in per-city subfolders or flat);
    by default ``../leftImg8bit/<split>`` or ``leftImg8bit/<split>`` next to the file when present,
    else the file's folder. ``<split>`` is taken from the file name (``val_gt.json`` -> ``val``).
    """
    path = Path(path)
    if path.suffix == ".mat":
        records = _mat_records(path)
    else:
        records = _json_records(path)
    root = Path(image_root) if image_root is not None else _guess_image_root(path)

    return AnnotatedDataset(f"citypersons:{path.name}", records, partial(_decode, root, person_classes))


def _decode(root: Path, person_classes: tuple[int, ...], record: tuple[dict, list[dict]]) -> LabelledImage:
    """One item (module level so the dataset pickles into spawned DataLoader workers)."""
    image, anns = record
    name = image["im_name"]
    city = name.rsplit("_", 3)[0]
    image_path = root / city / name
    if not image_path.is_file() and (root / name).is_file():
        image_path = root / name
    annotation, meta = _frame_annotation(image, anns, person_classes)
    return LabelledImage(image_path, annotation, meta)


def _guess_image_root(path: Path) -> Path:
    split = path.stem.split("_")[-1] if path.suffix == ".mat" else path.stem.split("_")[0]
    for candidate in (path.parent.parent / "leftImg8bit" / split, path.parent / "leftImg8bit" / split):
        if candidate.is_dir():
            return candidate
    return path.parent


def _json_records(path: Path) -> list[tuple[dict, list[dict]]]:
    data = load_json(path)
    require(isinstance(data, dict), f"{path}: top level must be an object")
    for key in ("images", "annotations"):
        require(isinstance(data.get(key), list), f"{path}: missing list {key!r}")
    per_image: dict[Any, list[dict]] = {}
    for image in data["images"]:
        require(
            isinstance(image, dict) and all(k in image for k in ("id", "im_name", "width", "height")),
            f"{path}: image entry needs id, im_name, width, height: {str(image)[:200]}",
        )
        per_image[image["id"]] = []
    for ann in data["annotations"]:
        where = f"{path}: annotation {ann.get('id') if isinstance(ann, dict) else ann!r}"
        require(isinstance(ann, dict) and ann.get("image_id") in per_image, f"{where} refers to an unknown image")
        for key in ("bbox", "vis_bbox"):
            require(
                isinstance(ann.get(key), list) and len(ann[key]) == 4, f"{where}: {key} must be [x, y, w, h]"
            )
        require("category_id" in ann, f"{where}: missing category_id")
        per_image[ann["image_id"]].append(ann)
    return [(image, per_image[image["id"]]) for image in data["images"]]


def _mat_records(path: Path) -> list[tuple[dict, list[dict]]]:
    import scipy.io

    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        data = scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except (scipy.io.matlab.MatReadError, ValueError, OSError, TypeError) as error:
        raise FormatError(f"{path}: not a readable MATLAB file ({error})") from None
    keys = [k for k in data if k.startswith("anno_")]
    require(len(keys) == 1, f"{path}: expected one 'anno_*' variable, found {sorted(k for k in data if not k.startswith('__'))}")
    width, height = CITYSCAPES_SIZE
    records = []
    for index, cell in enumerate(np.atleast_1d(data[keys[0]]), 1):
        require(all(hasattr(cell, f) for f in ("im_name", "bbs")), f"{path}: cell {index} lacks im_name / bbs")
        bbs = np.asarray(cell.bbs, dtype=np.float64)
        if bbs.size == 0:
            bbs = np.zeros((0, 10))
        elif bbs.ndim == 1:  # squeeze_me turned a single row into a vector
            bbs = bbs[None]
        require(bbs.ndim == 2 and bbs.shape[1] == 10, f"{path}: cell {index}: bbs rows must have 10 values")
        anns = [
            {
                "category_id": int(row[0]),
                "ignore": int(row[0] != 1),
                "iscrowd": int(row[0] == _GROUP),
                "bbox": row[1:5].tolist(),
                "vis_bbox": row[6:10].tolist(),
            }
            for row in bbs
        ]
        records.append(({"id": index, "im_name": str(cell.im_name), "width": width, "height": height}, anns))
    return records


def _frame_annotation(image: dict, anns: list[dict], person_classes: tuple[int, ...]) -> tuple[FrameAnnotation, dict]:
    def is_person(a: dict) -> bool:
        return a["category_id"] in person_classes and not a.get("ignore", 0)

    people = [a for a in anns if is_person(a)]
    ignored = [a for a in anns if not is_person(a)]
    full = xywh_to_xyxy(np.array([a["bbox"] for a in people], dtype=np.float64).reshape(-1, 4))
    visible = xywh_to_xyxy(np.array([a["vis_bbox"] for a in people], dtype=np.float64).reshape(-1, 4))
    with np.errstate(invalid="ignore", divide="ignore"):
        box_ratio = np.clip(box_area(visible) / box_area(full), 0.0, 1.0)
    ratios = np.array([a.get("vis_ratio", np.nan) for a in people], dtype=np.float64)
    persons = PersonAnnotations(
        "body22",
        full,
        visible_boxes=visible,
        ids=np.array([a.get("track_id", -1) for a in people], dtype=np.int64),
        visible_fractions=np.where(np.isfinite(ratios), ratios, box_ratio),
    )
    ignore = xywh_to_xyxy(np.array([a["bbox"] for a in ignored], dtype=np.float64).reshape(-1, 4))
    annotation = FrameAnnotation(
        Path(image["im_name"]).stem, int(image["width"]), int(image["height"]), persons, ignore_regions=ignore
    )
    meta = {"image": image, "iscrowd": np.array([bool(a.get("iscrowd", 0)) for a in ignored])}
    return annotation, meta


class CityPersonsWriter(DatasetWriter):
    """Writes ``leftImg8bit/<split>/<city>/<city>_000000_<frame>_leftImg8bit.png`` and ``<split>_gt.json``.

    ``<city>`` is the frame's sequence name (``seq`` when it has none); CityPersons images are PNG,
    so ``image_ext`` defaults to ``.png``.
    """

    format_name = "citypersons"

    def __init__(self, out_dir: str | Path, split: str = "train", image_ext: str = ".png", **kw):
        super().__init__(out_dir, split, image_ext=image_ext, **kw)
        self.json_path = self.out_dir / f"{self.split}_gt.json"
        self._images: list[dict] = []
        self._annotations: list[dict] = []

    def image_path(self, annotation: FrameAnnotation) -> Path:
        city = safe_name(annotation.sequence or "seq").replace("_", "-")
        name = f"{city}_000000_{annotation.frame_index:06d}_leftImg8bit{self.image_ext}"
        return Path("leftImg8bit") / self.split / city / name

    def _add(self, annotation: FrameAnnotation, image_path: Path) -> None:
        image_id = len(self._images) + 1
        rows = [*_person_rows(annotation), *_ignore_rows(annotation)]
        for row in rows:
            row["id"] = len(self._annotations) + 1
            row["image_id"] = image_id
            self._annotations.append(row)
        self._images.append(
            {"id": image_id, "im_name": image_path.name, "height": annotation.height, "width": annotation.width}
        )

    def _finish(self) -> None:
        write_json(self.json_path, {"categories": CATEGORIES, "images": self._images, "annotations": self._annotations})



def _person_rows(annotation: FrameAnnotation) -> list[dict]:
    persons = annotation.persons
    rows = []
    for i in range(len(persons)):
        if not np.isfinite(persons.visible_boxes[i]).all() or persons.visible_fractions[i] == 0:
            continue
        full, visible = xywh_list(persons.boxes[i]), xywh_list(persons.visible_boxes[i])
        ratio = (visible[2] * visible[3]) / (full[2] * full[3]) if full[2] * full[3] > 0 else 0.0
        row: dict[str, Any] = {
            "category_id": 1,
            "iscrowd": 0,
            "ignore": 0,
            "bbox": full,
            "vis_bbox": visible,
            "height": full[3],
            "vis_ratio": round(min(ratio, 1.0), 6),
        }
        if persons.ids[i] >= 0:
            row["track_id"] = int(persons.ids[i])
        rows.append(row)
    return rows


def _ignore_rows(annotation: FrameAnnotation) -> list[dict]:
    rows = []
    for box in annotation.ignore_regions:
        xywh = xywh_list(box)
        rows.append(
            {"category_id": 0, "iscrowd": 1, "ignore": 1, "bbox": xywh, "vis_bbox": xywh, "height": xywh[3], "vis_ratio": 1.0}
        )
    return rows
