"""COCO keypoints JSON: reader for COCO, CrowdPose and OCHuman files, writer for our ground truth.

Reading. The skeleton is recognised from the person category's keypoint names (COCO-17, or
CrowdPose-14 whose ``head`` is our ``head_top``). Per image, ``iscrowd = 0`` annotations become
persons: ``bbox`` -> ``boxes`` (COCO boxes enclose the annotated extent), keypoint flags ``v``
-> states (2 ``VISIBLE``, 1 ``OCCLUDED``, 0 ``UNKNOWN`` with NaN position); ``iscrowd = 1``
annotations become ignore regions. With ``masks=True`` the segmentations (polygons,
uncompressed or compressed RLE) are decoded with pycocotools into the instance map; where
masks overlap, the smaller person wins. Fields we write ourselves (``vis_bbox``, ``track_id``,
camera and sequence information) are read back when present. ``meta`` holds the original image
entry (``meta["image"]``, e.g. CrowdPose's ``crowdIndex``), and ``annotation_ids`` and raw
``segmentations`` aligned with the persons: evaluation needs the ids for results files, and
:func:`decode_segmentation` gives a person's whole mask where the instance map had to split
overlapping ones.

Writing. Body-22 (or any) ground truth is converted to ``coco17`` or ``crowdpose14``; ``bbox``
is the full-body box clipped to the image (the box our detector predicts and our top-down pose
model crops; the visible box goes to ``vis_bbox``), ``segmentation`` is the visible mask as
compressed RLE (exact, unlike polygons) and ``area`` its pixel count (the OKS scale), or the box
area without an instance map. People with no visible pixel, or whose box lies outside the image,
are not written (COCO annotates nobody it cannot see). Ignore regions become ``iscrowd = 1``.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.boxes import clip_boxes, xywh_to_xyxy
from ..core.camera import PinholeCamera
from ..core.skeletons import CROWDPOSE14, get_skeleton
from .convert import coco_flags, convert_persons, states_from_coco_flags, xywh_list
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

__all__ = [
    "read_coco",
    "CocoWriter",
    "decode_segmentation",
    "encode_rle",
    "instance_rles",
    "rle_counts",
    "keypoint_names",
    "skeleton_from_names",
]

# Names the datasets use where ours differ (CrowdPose calls the head top "head").
_DATASET_ALIASES = {"crowdpose14": {"head_top": "head"}}
_COCO_SKELETONS = ("coco17", "crowdpose14")


def keypoint_names(skeleton: str) -> list[str]:
    """The category ``keypoints`` list the real dataset uses for ``skeleton``."""
    aliases = _DATASET_ALIASES.get(skeleton, {})
    return [aliases.get(j, j) for j in get_skeleton(skeleton).joints]


def skeleton_from_names(names: list[str]) -> str:
    """Recognise ``coco17`` / ``crowdpose14`` from a category's keypoint names."""
    for skeleton in _COCO_SKELETONS:
        if list(names) == keypoint_names(skeleton) or list(names) == list(get_skeleton(skeleton).joints):
            return skeleton
    raise FormatError(f"keypoint names {names} match neither COCO-17 nor CrowdPose-14")


# ----------------------------------------------------------------------------------------- reading


def read_coco(
    json_path: str | Path, image_root: str | Path | None = None, *, masks: bool = False
) -> AnnotatedDataset:
    """Index a COCO-style keypoints file; annotations are decoded per item on access.

    ``image_root`` is where ``file_name`` is relative to; by default the first of the JSON's
    folder, ``images/`` beside it (OCHuman), ``../images/<split>``, ``../images`` (CrowdPose's
    ``json/`` + ``images/``) and ``../<split>`` (COCO's ``annotations/person_keypoints_val2017.json``
    + ``val2017/``) that holds the first image.
    """
    json_path = Path(json_path)
    data = load_json(json_path)
    require(isinstance(data, dict), f"{json_path}: top level must be an object")
    for key in ("images", "annotations", "categories"):
        require(isinstance(data.get(key), list), f"{json_path}: missing list {key!r}")
    category_id, skeleton = _person_category(json_path, data["categories"])
    num_joints = get_skeleton(skeleton).num_joints

    images: dict[Any, dict] = {}
    for image in data["images"]:
        require(
            isinstance(image, dict) and all(k in image for k in ("id", "file_name", "width", "height")),
            f"{json_path}: image entry needs id, file_name, width, height: {str(image)[:200]}",
        )
        images[image["id"]] = image
    per_image: dict[Any, list[dict]] = defaultdict(list)
    for ann in data["annotations"]:
        if isinstance(ann, dict) and ann.get("category_id", category_id) != category_id:
            continue  # another category (files with more than people): not ours to check
        _check_annotation(json_path, ann, images, num_joints)
        per_image[ann["image_id"]].append(ann)

    records = [(image, per_image.get(image["id"], [])) for image in data["images"]]
    root = Path(image_root) if image_root is not None else _guess_image_root(json_path, records)

    return AnnotatedDataset(f"coco:{json_path.name}", records, partial(_decode, root, skeleton, masks))


def _decode(root: Path, skeleton: str, masks: bool, record: tuple[dict, list[dict]]) -> LabelledImage:
    """One item (a module-level function so the dataset pickles into spawned DataLoader workers)."""
    image, anns = record
    annotation = _frame_annotation(image, anns, skeleton, masks)
    people = [a for a in anns if not a.get("iscrowd", 0)]
    meta = {
        "image": image,
        "annotation_ids": [a.get("id") for a in people],
        "segmentations": [a.get("segmentation") for a in people],
    }
    return LabelledImage(root / image["file_name"], annotation, meta)


def _person_category(json_path: Path, categories: list[dict]) -> tuple[int, str]:
    with_keypoints = [c for c in categories if isinstance(c, dict) and c.get("keypoints")]
    require(bool(with_keypoints), f"{json_path}: no category with keypoints (not a keypoints file)")
    people = [c for c in with_keypoints if c.get("name") == "person"] or with_keypoints
    try:
        return people[0]["id"], skeleton_from_names(people[0]["keypoints"])
    except FormatError as error:
        raise FormatError(f"{json_path}: {error}") from None


def _check_annotation(json_path: Path, ann: Any, images: dict, num_joints: int) -> None:
    where = f"{json_path}: annotation {ann.get('id') if isinstance(ann, dict) else ann!r}"
    require(isinstance(ann, dict), f"{where} is not an object")
    require(ann.get("image_id") in images, f"{where} refers to unknown image_id {ann.get('image_id')!r}")
    bbox = ann.get("bbox")
    require(isinstance(bbox, list) and len(bbox) == 4, f"{where}: bbox must be [x, y, w, h], got {bbox!r}")
    keypoints = ann.get("keypoints")
    if keypoints is not None or not ann.get("iscrowd", 0):
        require(
            isinstance(keypoints, list) and len(keypoints) == 3 * num_joints,
            f"{where}: expected {3 * num_joints} keypoint values, got "
            f"{len(keypoints) if isinstance(keypoints, list) else keypoints!r}",
        )


def _guess_image_root(json_path: Path, records: list[tuple[dict, list[dict]]]) -> Path:
    split = json_path.stem.split("_")[-1]
    candidates = [
        json_path.parent,
        json_path.parent / "images",
        json_path.parent.parent / "images" / split,
        json_path.parent.parent / "images",
        json_path.parent.parent / split,
    ]
    if records:
        for candidate in candidates:
            if (candidate / records[0][0]["file_name"]).is_file():
                return candidate
    return json_path.parent


def _frame_annotation(image: dict, anns: list[dict], skeleton: str, masks: bool) -> FrameAnnotation:
    width, height = int(image["width"]), int(image["height"])
    people = [a for a in anns if not a.get("iscrowd", 0)]
    crowds = [a for a in anns if a.get("iscrowd", 0)]
    k = get_skeleton(skeleton).num_joints
    raw = np.array([a["keypoints"] for a in people], dtype=np.float64).reshape(-1, k, 3)
    flags = raw[..., 2].astype(np.int64)
    keypoints = np.where((flags > 0)[..., None], raw[..., :2], np.nan)
    persons = PersonAnnotations(
        skeleton,
        xywh_to_xyxy(np.array([a["bbox"] for a in people], dtype=np.float64).reshape(-1, 4)),
        visible_boxes=_optional_boxes(people, "vis_bbox"),
        ids=np.array([a.get("track_id", -1) for a in people], dtype=np.int64),
        keypoints=keypoints,
        keypoint_states=states_from_coco_flags(flags),
    )
    ignore = xywh_to_xyxy(np.array([a["bbox"] for a in crowds], dtype=np.float64).reshape(-1, 4))
    camera = image.get("camera")
    return FrameAnnotation(
        image_id=Path(image["file_name"]).stem,
        width=width,
        height=height,
        persons=persons,
        ignore_regions=ignore,
        instance_map=_instance_map(people, height, width) if masks else None,
        camera=PinholeCamera(camera["fx"], camera["fy"], camera["cx"], camera["cy"], width, height) if camera else None,
        stamp_ns=int(image.get("stamp_ns", 0)),
        sequence=str(image.get("sequence", "")),
        frame_index=int(image.get("frame_index", 0)),
        domain=str(image.get("domain", "")),
    )


def _optional_boxes(anns: list[dict], key: str) -> np.ndarray:
    rows = [a[key] if isinstance(a.get(key), list) and len(a[key]) == 4 else [np.nan] * 4 for a in anns]
    return xywh_to_xyxy(np.array(rows, dtype=np.float64).reshape(-1, 4)).astype(np.float32)


def _mask_utils():
    try:
        from pycocotools import mask
    except ImportError as error:  # pragma: no cover - pycocotools is in the "eval" extra
        raise ImportError("decoding COCO segmentations needs pycocotools (pip install 'crowd_perception[eval]')") from error
    return mask


def decode_segmentation(segmentation: Any, height: int, width: int, ann_id: Any = None) -> np.ndarray:
    """``(H, W)`` bool mask of a COCO segmentation (polygons, uncompressed or compressed RLE)."""
    mask_utils = _mask_utils()
    return mask_utils.decode(_to_rle(mask_utils, segmentation, height, width, ann_id)).astype(bool)


def _instance_map(people: list[dict], height: int, width: int) -> np.ndarray | None:
    """Paint each person's mask, largest first, so where masks overlap (OCHuman's do, heavily) the
    smaller, usually farther or more occluded, person keeps the pixels. ``None`` where no person has
    a segmentation (CrowdPose): an empty map would claim that nobody has visible pixels."""
    masks = [
        (i, decode_segmentation(a["segmentation"], height, width, a.get("id")))
        for i, a in enumerate(people)
        if a.get("segmentation")
    ]
    if people and not masks:
        return None
    out = np.zeros((height, width), dtype=np.int32)
    for index, mask in sorted(masks, key=lambda item: -int(item[1].sum())):
        out[mask] = index + 1
    return out


def _to_rle(mask_utils, segmentation: Any, height: int, width: int, ann_id: Any) -> dict:
    if isinstance(segmentation, list):
        polygons = [p for p in segmentation if isinstance(p, list) and len(p) >= 6]
        if not polygons:
            raise FormatError(f"annotation {ann_id}: no polygon with at least 3 points")
        return mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
    if isinstance(segmentation, dict) and "counts" in segmentation and "size" in segmentation:
        if list(segmentation["size"]) != [height, width]:
            raise FormatError(f"annotation {ann_id}: RLE size {segmentation['size']} is not the image's {[height, width]}")
        if isinstance(segmentation["counts"], list):
            return mask_utils.frPyObjects(segmentation, height, width)
        return segmentation
    raise FormatError(f"annotation {ann_id}: unrecognised segmentation {str(segmentation)[:100]}")


# ----------------------------------------------------------------------------------------- writing


class CocoWriter(DatasetWriter):
    """Writes ``images/<split>/<image>`` and ``annotations/<prefix>_<split>.json``.

    ``skeleton`` is ``coco17`` (file prefix ``person_keypoints``) or ``crowdpose14``
    (``crowdpose``); ``masks=False`` leaves segmentations out even when an instance map exists.
    """

    format_name = "coco"

    def __init__(self, out_dir: str | Path, split: str = "train", skeleton: str = "coco17", masks: bool = True, **kw):
        super().__init__(out_dir, split, **kw)
        if skeleton not in _COCO_SKELETONS:
            raise ValueError(f"COCO writer skeleton must be one of {_COCO_SKELETONS}, got {skeleton!r}")
        self.skeleton = skeleton
        self.masks = masks
        prefix = "crowdpose" if skeleton == CROWDPOSE14.name else "person_keypoints"
        self.json_path = self.out_dir / "annotations" / f"{prefix}_{self.split}.json"
        self._images: list[dict] = []
        self._annotations: list[dict] = []

    def image_path(self, annotation: FrameAnnotation) -> Path:
        return Path("images") / self.split / f"{safe_name(annotation.image_id)}{self.image_ext}"

    def _add(self, annotation: FrameAnnotation, image_path: Path) -> None:
        image_id = len(self._images) + 1
        entry: dict[str, Any] = {
            "id": image_id,
            "file_name": image_path.name,
            "width": annotation.width,
            "height": annotation.height,
        }
        entry.update(_frame_extras(annotation))
        annotations = [
            *_person_entries(annotation, self.skeleton, self.masks),
            *(_ignore_entry(annotation, box, get_skeleton(self.skeleton).num_joints) for box in annotation.ignore_regions),
        ]
        for ann in annotations:
            ann["id"] = len(self._annotations) + 1
            ann["image_id"] = image_id
            self._annotations.append(ann)
        self._images.append(entry)

    def _finish(self) -> None:
        skeleton = get_skeleton(self.skeleton)
        category = {
            "id": 1,
            "name": "person",
            "supercategory": "person",
            "keypoints": keypoint_names(self.skeleton),
            "skeleton": [[a + 1, b + 1] for a, b in skeleton.limbs],
        }
        write_json(self.json_path, {"images": self._images, "annotations": self._annotations, "categories": [category]})


def _frame_extras(annotation: FrameAnnotation) -> dict[str, Any]:
    """Our additions to the image entry (ignored by COCO tools, read back by :func:`read_coco`)."""
    extras: dict[str, Any] = {"sequence": annotation.sequence, "frame_index": annotation.frame_index,
                              "stamp_ns": annotation.stamp_ns, "domain": annotation.domain}
    if annotation.camera is not None:
        c = annotation.camera
        extras["camera"] = {"fx": c.fx, "fy": c.fy, "cx": c.cx, "cy": c.cy}
    return extras


def _person_entries(annotation: FrameAnnotation, skeleton: str, masks: bool) -> list[dict]:
    persons = convert_persons(annotation.persons, skeleton)
    w, h = annotation.width, annotation.height
    boxes = clip_boxes(persons.boxes.astype(np.float64), w, h)
    flags = coco_flags(persons.keypoints, persons.keypoint_states, w, h)
    rles = instance_rles(annotation.instance_map) if masks and annotation.instance_map is not None else None
    entries = []
    for i in range(len(persons)):
        if not (boxes[i, 2] > boxes[i, 0] and boxes[i, 3] > boxes[i, 1]) or persons.visible_fractions[i] == 0:
            continue
        entry: dict[str, Any] = {"category_id": 1, "iscrowd": 0, "bbox": xywh_list(boxes[i], 3)}
        if rles is not None:
            if i + 1 not in rles:
                continue  # no visible pixel
            entry["segmentation"], entry["area"] = rles[i + 1]
        else:
            entry["area"] = round(float(np.prod(boxes[i, 2:] - boxes[i, :2])), 3)
        xy = np.round(np.where(flags[i, :, None] > 0, persons.keypoints[i], 0.0), 3).tolist()
        entry["keypoints"] = [v for (x, y), flag in zip(xy, flags[i].tolist(), strict=True) for v in (x, y, flag)]
        entry["num_keypoints"] = int((flags[i] > 0).sum())
        if np.isfinite(persons.visible_boxes[i]).all():
            entry["vis_bbox"] = xywh_list(persons.visible_boxes[i], 3)
        if persons.ids[i] >= 0:
            entry["track_id"] = int(persons.ids[i])
        entries.append(entry)
    return entries


def _ignore_entry(annotation: FrameAnnotation, box: np.ndarray, num_joints: int) -> dict[str, Any]:
    x1, y1, x2, y2 = clip_boxes(box.astype(np.float64), annotation.width, annotation.height)
    w, h = max(x2 - x1, 0.0), max(y2 - y1, 0.0)
    return {
        "category_id": 1,
        "iscrowd": 1,
        "bbox": np.round([x1, y1, w, h], 3).tolist(),
        "area": round(w * h, 3),
        "segmentation": _box_rle(annotation.height, annotation.width, (x1, y1, x2, y2)),
        "keypoints": [0] * (3 * num_joints),
        "num_keypoints": 0,
    }


def _box_rle(height: int, width: int, box: tuple[float, ...]) -> dict:
    """Uncompressed RLE (the COCO convention for crowd regions) of the pixels a box covers."""
    mask = np.zeros((height, width), dtype=bool)
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    mask[y1:y2, x1:x2] = True
    return {"size": [height, width], "counts": rle_counts(mask)}


def rle_counts(mask: np.ndarray) -> list[int]:
    """COCO run lengths of a binary ``(H, W)`` mask: column-major, alternating runs starting with 0s."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    return _counts_from_positions(np.flatnonzero(flat), flat.size)


def _counts_from_positions(positions: np.ndarray, total: int) -> list[int]:
    """Run lengths from the sorted column-major indices of the set pixels (cost: the set pixels only)."""
    if len(positions) == 0:
        return [total]
    breaks = np.flatnonzero(np.diff(positions) != 1)
    starts = np.concatenate([positions[:1], positions[breaks + 1]])
    ends = np.concatenate([positions[breaks], positions[-1:]]) + 1
    counts = np.empty(2 * len(starts) + 1, dtype=np.int64)
    counts[0] = starts[0]
    counts[1::2] = ends - starts
    counts[2:-1:2] = starts[1:] - ends[:-1]
    counts[-1] = total - ends[-1]
    return counts[:-1].tolist() if counts[-1] == 0 else counts.tolist()


def instance_rles(instance_map: np.ndarray) -> dict[int, tuple[dict, int]]:
    """Compressed RLE and pixel count of every label > 0 of an instance map, in one pass over the
    image (instead of one full-image comparison and encoding per person, which dominated writing
    crowded frames)."""
    height, width = instance_map.shape
    flat = instance_map.ravel(order="F")
    positions = np.flatnonzero(flat)
    values = flat[positions]
    order = np.argsort(values, kind="stable")  # keeps each label's positions sorted
    positions, values = positions[order], values[order]
    labels, starts = np.unique(values, return_index=True)
    ends = np.append(starts[1:], len(values))[: len(starts)]
    return {
        int(label): (
            {"size": [height, width], "counts": compress_counts(_counts_from_positions(positions[a:b], flat.size))},
            int(b - a),
        )
        for label, a, b in zip(labels, starts, ends, strict=True)
    }


def encode_rle(mask: np.ndarray) -> dict:
    """Compressed COCO RLE of a binary mask (what ``pycocotools.mask.encode`` gives, so writing needs
    no pycocotools)."""
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": compress_counts(rle_counts(mask))}


def compress_counts(counts: list[int]) -> str:
    """COCO's string form of run lengths: each stored as the difference to the run two before it,
    in 5-bit groups with a continuation bit, offset into printable ASCII from ``0``."""
    out = []
    for i, count in enumerate(counts):
        x = count - counts[i - 2] if i > 2 else count
        while True:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr(48 + (c | 0x20 if more else c)))
            if not more:
                break
    return "".join(out)
