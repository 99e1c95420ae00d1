"""A user's own recording into a rosbag2: a folder of images or a video file (plus an optional
camera-info YAML in the ROS ``camera_calibration`` format) -> a bag that ``replay`` and
``evaluate`` take (``crowd-perception bag import``).

Each frame becomes a ``sensor_msgs/Image`` (bgr8) or, with ``compressed``, a
``sensor_msgs/CompressedImage`` that keeps a JPEG/PNG file's own bytes; with a camera-info file
each frame also gets a ``sensor_msgs/CameraInfo`` with the same header. Stamps are monotonic:
``start + i / fps`` (header stamp = receive time). An image file that cannot be decoded is
skipped and counted (``strict``: an error), so one corrupt file does not lose a recording.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from ..core.camera import InvalidIntrinsicsError
from ..core.errors import InputError
from ..core.types import Header
from ..utils.images import IMAGE_SUFFIXES
from ..utils.images import image_files as folder_images
from . import convert
from .bag import CAMERA_INFO_TOPIC, IMAGE_TOPIC, BagWriter

__all__ = ["IMAGE_SUFFIXES", "ImportReport", "CameraInfoYaml", "read_camera_info_yaml", "import_to_bag"]

_LOG = logging.getLogger(__name__)
IMPORT_KEY = "crowd_perception.import"  # bag custom data: where the frames came from
_KEPT_BYTES = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}  # compressed: these files' bytes are kept as they are


@dataclass
class ImportReport:
    """What an import wrote: frames, the ones skipped (file, reason), stamps and size."""

    output: str
    source: str
    frames: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fps: float = 0.0
    width: int = 0
    height: int = 0
    first_stamp_ns: int = 0
    last_stamp_ns: int = 0
    camera_info: bool = False
    message_type: str = "sensor_msgs/msg/Image"
    topic: str = IMAGE_TOPIC

    def summary(self) -> str:
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        info = " + CameraInfo" if self.camera_info else ""
        return (f"{self.frames} frames{skipped} ({self.width}x{self.height}, {self.fps:g} fps) from {self.source} -> "
                f"{self.output}: {self.topic} ({self.message_type.rsplit('/', 1)[-1]}){info}")


# --------------------------------------------------------------------------- camera info


@dataclass(frozen=True)
class CameraInfoYaml:
    """A ``camera_calibration`` YAML (``camera_info_manager``'s format), checked."""

    width: int
    height: int
    k: tuple[float, ...]
    d: tuple[float, ...]
    r: tuple[float, ...]
    p: tuple[float, ...]
    distortion_model: str
    camera_name: str = ""

    def scaled_to(self, width: int, height: int) -> CameraInfoYaml:
        """The same calibration for images of another resolution with the same aspect ratio."""
        sx, sy = width / self.width, height / self.height
        k, p = np.array(self.k).reshape(3, 3), np.array(self.p).reshape(3, 4)
        scale = np.diag([sx, sy, 1.0])
        return CameraInfoYaml(width, height, tuple((scale @ k).ravel()), self.d, self.r, tuple((scale @ p).ravel()),
                              self.distortion_model, self.camera_name)

    def to_msg(self, header: Header, kit: Any) -> Any:
        roi = kit.make("sensor_msgs/msg/RegionOfInterest", x_offset=0, y_offset=0, height=0, width=0,
                       do_rectify=False)
        return kit.make(
            "sensor_msgs/msg/CameraInfo",
            header=convert.header_to_msg(header, kit),
            height=self.height,
            width=self.width,
            distortion_model=self.distortion_model,
            d=kit.array(np.array(self.d, dtype=np.float64), np.float64),
            k=kit.fixed(np.array(self.k), np.float64),
            r=kit.fixed(np.array(self.r), np.float64),
            p=kit.fixed(np.array(self.p), np.float64),
            binning_x=0,
            binning_y=0,
            roi=roi,
        )


def _required_matrix(data: dict[str, Any], key: str, path: Path, rows: int, cols: int) -> tuple[float, ...]:
    out = _matrix(data, key, path, rows, cols)
    if out is None:
        raise InputError(f"{path}: {key} is missing (camera_calibration format: {key}: {{rows, cols, data}})")
    return out


def _matrix(data: dict[str, Any], key: str, path: Path, rows: int, cols: int | None) -> tuple[float, ...] | None:
    """The checked values of matrix ``key``, None when the file has no such key."""
    entry = data.get(key)
    if entry is None:
        return None
    if not isinstance(entry, dict) or "data" not in entry:
        raise InputError(f"{path}: {key} must be a mapping with rows, cols and data")
    values = entry["data"]
    if not isinstance(values, list):
        raise InputError(f"{path}: {key}.data must be a list of numbers")
    try:
        out = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise InputError(f"{path}: {key}.data holds a value that is not a number: {values}") from None
    n_rows, n_cols = entry.get("rows", rows), entry.get("cols", cols if cols is not None else len(out))
    if not isinstance(n_rows, int) or not isinstance(n_cols, int) or n_rows * n_cols != len(out):
        raise InputError(f"{path}: {key} states {n_rows}x{n_cols} but holds {len(out)} values")
    if cols is not None and (n_rows, n_cols) != (rows, cols):
        raise InputError(f"{path}: {key} must be {rows}x{cols}, got {n_rows}x{n_cols}")
    if not all(math.isfinite(v) for v in out):
        raise InvalidIntrinsicsError(f"{path}: {key} holds non-finite values: {list(out)}")
    return out


def read_camera_info_yaml(path: str | Path) -> CameraInfoYaml:
    """Read and check a ``camera_calibration`` YAML (``image_width``, ``camera_matrix``, ...).

    Missing ``rectification_matrix`` is the identity, missing ``projection_matrix`` is ``[K | 0]``,
    missing distortion is none. Any other fault is an :class:`InputError` (or
    :class:`InvalidIntrinsicsError` for impossible intrinsics) naming the file and key.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}: broken YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a camera_calibration YAML (expected a mapping with image_width, camera_matrix, ...)")
    size = []
    for key in ("image_width", "image_height"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InputError(f"{path}: {key} must be a positive integer, got {value!r}")
        size.append(value)
    k = _required_matrix(data, "camera_matrix", path, 3, 3)
    d = _matrix(data, "distortion_coefficients", path, 1, None) or ()
    r = _matrix(data, "rectification_matrix", path, 3, 3) or tuple(np.eye(3).ravel())
    p = _matrix(data, "projection_matrix", path, 3, 4)
    fx, fy, cx, cy = k[0], k[4], k[2], k[5]
    if fx <= 0 or fy <= 0 or k[8] != 1.0 or k[3] != 0 or k[6] != 0 or k[7] != 0:
        raise InvalidIntrinsicsError(f"{path}: camera_matrix is not a pinhole K (fx, fy > 0, last row 0 0 1): {list(k)}")
    if not (0 <= cx <= size[0] and 0 <= cy <= size[1]):
        raise InvalidIntrinsicsError(f"{path}: principal point ({cx}, {cy}) outside the {size[0]}x{size[1]} image")
    if max(fx, fy) > 1000 * max(size):
        raise InvalidIntrinsicsError(f"{path}: focal length {max(fx, fy)} px is implausible for a {size[0]}x{size[1]} image")
    if p is None:
        p = tuple(np.hstack([np.array(k).reshape(3, 3), np.zeros((3, 1))]).ravel())
    model = str(data.get("distortion_model") or "plumb_bob")
    return CameraInfoYaml(size[0], size[1], k, d, r, p, model, str(data.get("camera_name") or ""))


# --------------------------------------------------------------------------- frames


@dataclass
class _Frame:
    name: str
    image: np.ndarray | None
    raw: bytes | None = None  # the file's own bytes (compressed import)
    raw_format: str | None = None
    error: str | None = None


def image_files(folder: str | Path) -> list[Path]:
    """The image files of a folder in natural order (``2.jpg`` before ``10.jpg``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder of images" if folder.exists() else f"folder {folder} does not exist")
    files = folder_images(folder)
    if not files:
        raise InputError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _read_images(files: list[Path], keep_bytes: bool) -> Iterator[_Frame]:
    for path in files:
        data = path.read_bytes()
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR) if data else None
        if image is None:
            yield _Frame(path.name, None, error="cannot be decoded" if data else "empty file")
            continue
        if keep_bytes and path.suffix.lower() in _KEPT_BYTES:
            fmt = _KEPT_BYTES[path.suffix.lower()]
            try:  # the same checks the nodes apply (a cut-off JPEG decodes with grey rows)
                convert.compressed_image_from_msg(_FakeCompressed(fmt, data))
            except ValueError as exc:
                yield _Frame(path.name, None, error=str(exc))
                continue
            yield _Frame(path.name, image, data, fmt)
        else:
            yield _Frame(path.name, image)


@dataclass
class _FakeCompressed:
    format: str
    data: bytes


def _read_video(path: Path) -> Iterator[_Frame]:
    capture = cv2.VideoCapture(str(path))
    try:
        index = 0
        while True:
            ok, image = capture.read()
            if not ok:
                break
            yield _Frame(f"{path.name}#{index}", image)
            index += 1
    finally:
        capture.release()


def _video_info(path: Path) -> tuple[float, int]:
    if not path.is_file():
        raise InputError(f"video {path} does not exist" if not path.exists() else f"{path} is not a file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise InputError(f"{path}: OpenCV cannot open this video (unknown container or codec)")
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        capture.release()
    return (fps if math.isfinite(fps) and fps > 0 else 0.0), max(count, 0)


# --------------------------------------------------------------------------- import


def import_to_bag(out: str | Path, *, images: str | Path | None = None, video: str | Path | None = None,
                  fps: float | None = None, camera_info: str | Path | None = None, topic: str = IMAGE_TOPIC,
                  camera_info_topic: str | None = None, compressed: bool = False, storage: str = "mcap",
                  start_s: float = 0.0, frame_id: str = "camera_optical_frame", strict: bool = False,
                  progress: bool = True) -> ImportReport:
    """Write the frames of ``images`` (a folder) or ``video`` (a file) into a new rosbag2 at ``out``.

    ``fps`` sets the stamps (default: the video's own rate; 10 for a folder of images);
    ``camera_info`` adds a CameraInfo per frame (rescaled if the images have another resolution
    of the same aspect ratio); ``compressed`` writes CompressedImage on ``<topic>/compressed``
    (JPEG/PNG files keep their bytes). Returns what was written; with ``strict`` an undecodable
    image file is an error instead of a skipped, counted frame.
    """
    given = images if images is not None else video
    if given is None or (images is not None and video is not None):
        raise InputError("give exactly one of --images DIR or --video FILE")
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise InputError(f"--fps must be a positive number, got {fps}")
    if not math.isfinite(start_s) or start_s < 0:
        raise InputError(f"--start must be a non-negative number of seconds, got {start_s}")
    calibration = read_camera_info_yaml(camera_info) if camera_info is not None else None
    out = Path(out)
    if out.exists():
        raise InputError(f"{out} exists already; rosbag2 writers never overwrite (choose another --out)")
    if images is not None:
        files = image_files(images)
        rate, total, source = fps or 10.0, len(files), str(images)
        frames = _read_images(files, keep_bytes=compressed)
    else:
        video_file = Path(given)  # no --images: ``given`` is the video
        native, total = _video_info(video_file)
        rate = fps or native
        if not rate:
            raise InputError(f"{video}: the video states no frame rate; pass --fps")
        source = str(video)
        frames = _read_video(video_file)
    image_topic = f"{topic.rstrip('/')}/compressed" if compressed and not topic.endswith("/compressed") else topic
    info_topic = camera_info_topic or (f"{topic.rsplit('/', 1)[0]}/camera_info" if "/" in topic.strip("/")
                                       else CAMERA_INFO_TOPIC)
    report = ImportReport(str(out), source, fps=rate, camera_info=calibration is not None, topic=image_topic,
                          message_type="sensor_msgs/msg/CompressedImage" if compressed else "sensor_msgs/msg/Image")
    from tqdm import tqdm

    start_ns = round(start_s * 1e9)
    try:
        _write(out, storage, frames, report, calibration, camera_info, source, rate, start_ns, frame_id, image_topic,
               info_topic, compressed, strict, tqdm(total=total or None, unit="frame", desc="import",
                                                     disable=not progress, file=sys.stderr))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # no half-written bag is left behind
        raise
    return report


def _write(out: Path, storage: str, frames: Iterator[_Frame], report: ImportReport, calibration: CameraInfoYaml | None,
           camera_info: Any, source: str, rate: float, start_ns: int, frame_id: str, image_topic: str, info_topic: str,
           compressed: bool, strict: bool, bar: Any) -> None:
    size: tuple[int, int] | None = None
    frame_info = None
    with BagWriter(out, storage=storage) as bag, bar:
        for frame in frames:
            bar.update(1)
            if frame.image is None:
                if strict:
                    raise InputError(f"{source}: {frame.name}: {frame.error}")
                report.skipped.append((frame.name, frame.error or "undecodable"))
                _LOG.warning("%s: %s skipped: %s", source, frame.name, frame.error)
                continue
            height, width = frame.image.shape[:2]
            if size is None:
                size = (width, height)
                if calibration is not None:
                    frame_info = _calibration_for(calibration, width, height, camera_info)
            elif size != (width, height):
                raise InputError(f"{source}: {frame.name} is {width}x{height}, the frames before it {size[0]}x{size[1]}"
                                 " (one bag, one camera: resize them first)")
            # every frame keeps its place in time, skipped ones included: stamps stay those of the recording
            index = report.frames + len(report.skipped)
            stamp = start_ns + round(index * 1e9 / rate)
            header = Header(stamp, frame_id)
            if compressed and frame.raw is not None:
                msg = bag.kit.make("sensor_msgs/msg/CompressedImage", header=convert.header_to_msg(header, bag.kit),
                                   format=f"bgr8; {frame.raw_format} compressed bgr8",
                                   data=bag.kit.array(np.frombuffer(frame.raw, dtype=np.uint8), np.uint8))
            elif compressed:
                msg = convert.compressed_image_to_msg(frame.image, header, bag.kit, "jpeg", quality=95)
            else:
                msg = convert.image_to_msg(frame.image, header, bag.kit)
            bag.write(image_topic, msg, stamp)
            if frame_info is not None:
                bag.write(info_topic, frame_info.to_msg(header, bag.kit), stamp)
            if report.frames == 0:
                report.first_stamp_ns = stamp
            report.frames += 1
            report.last_stamp_ns = stamp
        if size is None:  # set by the first decoded frame
            raise InputError(f"{source}: no frame could be decoded ({len(report.skipped)} skipped)")
        report.width, report.height = size
        bag.set_custom_data(IMPORT_KEY, json.dumps({"source": source, "frames": report.frames, "fps": rate,
                                                    "skipped": len(report.skipped)}, sort_keys=True))


def _calibration_for(calibration: CameraInfoYaml, width: int, height: int, path: Any) -> CameraInfoYaml:
    if (calibration.width, calibration.height) == (width, height):
        return calibration
    if abs(width / calibration.width - height / calibration.height) > 1e-3:
        raise InputError(f"{path}: calibration is for {calibration.width}x{calibration.height} images, the frames are "
                         f"{width}x{height} (another aspect ratio)")
    _LOG.warning("%s: calibration for %dx%d rescaled to the %dx%d frames", path, calibration.width, calibration.height,
                 width, height)
    return calibration.scaled_to(width, height)
