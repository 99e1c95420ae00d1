"""The ROS-free logic of each node: a config dataclass (its fields are the node's parameters) and a
stage object that turns inputs into core results. The rclpy nodes and ``crowd-perception replay``
both call these stages, so a bag replayed offline goes through exactly the node code paths.

Runners (``PedestrianDetector``, ``OccludedPoseEstimator``, ``Pose3DEstimator``, ``Tracker``) are
built by :func:`build_runner` from a config, or passed in (tests use small fakes).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..core.boxes import box_iou
from ..core.camera import PinholeCamera
from ..core.errors import CrowdPerceptionError, NonFiniteOutputError
from ..core.types import Detections, Poses2D, Poses3D, Tracks
from ..tracking import Tracker, TrackerConfig, get_profile
from ..tracking.tracker import MAX_DETECTIONS
from .image_health import image_fault
from .params import param
from .runners import Detector, Pose3DEstimator, PoseEstimator

__all__ = [
    "NodeConfig",
    "ModelNodeConfig",
    "Stage",
    "DetectorNodeConfig",
    "Pose2DNodeConfig",
    "Pose3DNodeConfig",
    "TrackerNodeConfig",
    "VisualizerNodeConfig",
    "NODE_CONFIGS",
    "DetectorStage",
    "Pose2DStage",
    "Pose3DStage",
    "TrackerStage",
    "build_runner",
    "camera_for_image",
    "model_path",
    "runner_identity",
    "runner_skeleton",
    "tracker_config",
]

_LOG = logging.getLogger(__name__)
R = TypeVar("R")
P = TypeVar("P", Poses2D, Poses3D)
_RELIABILITY = ("best_effort", "reliable")
MIN_BOX_SIDE = 2.0  # px: a narrower or lower box (zero-width, a sliver) cannot be a person
_BACKENDS = ("onnxruntime", "tensorrt", "auto")
_TRACKER_PROFILE = "default"
# The tracker node's operating point: its profile's association, with the score thresholds chosen for the
# shipped detector's scores on the synth bench preset (`ablation tracking --source detector --operating-points`,
# RESULTS section tracking-operating-points-detector), not on the demo the chain is judged on.
_TRACKING = get_profile(_TRACKER_PROFILE).replace(detection_threshold=0.6, new_track_threshold=0.7)


@dataclass(frozen=True)
class NodeConfig:
    """Parameters every node has: live mode, QoS per direction, diagnostics."""

    live: bool = field(default=True, metadata=param(
        "process only the newest input and count the ones skipped (false: every input, in order)"))
    qos_input_reliability: str = field(default="best_effort", metadata=param(
        "reliability of the input subscriptions (sensor data: best_effort)", choices=_RELIABILITY))
    qos_input_depth: int = field(default=5, metadata=param("history depth of the input subscriptions", low=1, high=1000))
    qos_output_reliability: str = field(default="reliable", metadata=param(
        "reliability of the output publishers", choices=_RELIABILITY))
    qos_output_depth: int = field(default=10, metadata=param("history depth of the output publishers", low=1, high=1000))
    diagnostics_period_s: float = field(default=1.0, metadata=param(
        "period of the diagnostic_updater status [s]", low=0.1, high=60.0))


@dataclass(frozen=True)
class ModelNodeConfig(NodeConfig):
    """Parameters of a node that runs a network (``MODEL`` names its shipped default)."""

    MODEL: ClassVar[str] = ""
    model_path: str = field(default="", metadata=param(
        "model file (.onnx, with its metadata .json beside it); empty: the shipped crowd_perception/weights/<model>.onnx"))
    backend: str = field(default="onnxruntime", metadata=param("inference backend", choices=_BACKENDS))
    threads: int = field(default=1, metadata=param("CPU threads of the inference backend", low=1, high=64))

    def runner_options(self) -> dict[str, Any]:
        """Model-specific keyword arguments of the runner."""
        return {}


def _image_health_check() -> Any:
    """The ``image_health_check`` parameter of the nodes that look at whole images (detector, pose3d)."""
    return field(default=False, metadata=param(
        "publish no people for an image that cannot show any (constant: black, white or covered; pixel noise; "
        "under 16 px), counted in the diagnostics (on in the shipped config)", dynamic=True))


@dataclass(frozen=True)
class DetectorNodeConfig(ModelNodeConfig):
    MODEL: ClassVar[str] = "detector"

    compressed_input: bool = field(default=False, metadata=param(
        "subscribe to sensor_msgs/CompressedImage (<image>/compressed) instead of Image"))
    score_threshold: float = field(default=0.2, metadata=param(
        "detections below this score are not published (the operating point; the model keeps nothing below "
        "its own floor, stated in its card: post-processing score threshold)", low=0.0, high=1.0, dynamic=True))
    max_detections: int = field(default=300, metadata=param(
        "at most this many detections per image (highest scores; the tracker associates at most "
        f"{MAX_DETECTIONS} per frame)", low=1, high=MAX_DETECTIONS, dynamic=True))
    image_health_check: bool = _image_health_check()


@dataclass(frozen=True)
class Pose2DNodeConfig(ModelNodeConfig):
    MODEL: ClassVar[str] = "pose2d"

    flip_test: bool = field(default=False, metadata=param("average with the mirrored input (2x compute)"))
    occlusion_threshold: float = field(default=0.5, metadata=param(
        "a joint whose occlusion probability exceeds this is published as OCCLUDED (shipped models are "
        "calibrated for 0.5: their held-out threshold is folded into the weights)", low=0.0, high=1.0,
        dynamic=True))
    min_box_score: float = field(default=_TRACKING.detection_threshold, metadata=param(
        "only detections at or above this score get a pose (default = the tracker's detection_threshold: "
        "pose what the tracker's first association stage keeps)", low=0.0, high=1.0, dynamic=True))
    max_people: int = field(default=12, metadata=param(
        "pose at most this many of those detections per image, the tallest (nearest) boxes first; 0 = all. "
        "Bounds the stage's cost in a crowd: a crop-mode model (the shipped one) runs once per person",
        low=0, high=1000, dynamic=True))
    sync_capacity: int = field(default=10, metadata=param(
        "stamps kept while waiting for the image / detections partner message", low=1, high=1000))

    def runner_options(self) -> dict[str, Any]:
        return {"flip_test": self.flip_test}


@dataclass(frozen=True)
class Pose3DNodeConfig(ModelNodeConfig):
    MODEL: ClassVar[str] = "pose3d"
    score_threshold: float = field(default=0.0, metadata=param(
        "3D poses below this person score are not published, on top of the model's calibrated operating point "
        "(0: the model's alone)", low=0.0, high=1.0, dynamic=True))
    require_camera_info: bool = field(default=False, metadata=param(
        "skip images without a valid CameraInfo (false: publish root-relative poses, placed_with_intrinsics=false)"))
    image_health_check: bool = _image_health_check()


@dataclass(frozen=True)
class TrackerNodeConfig(NodeConfig):
    profile: str = field(default=_TRACKER_PROFILE, metadata=param(
        "tracker profile: 'jde' (published JDE) or 'default' (time-based, BYTE, cosine gate)",
        choices=("default", "jde")))
    detection_threshold: float = field(default=_TRACKING.detection_threshold, metadata=param(
        "detections at or above this score take part in the appearance association", low=0.0, high=1.0,
        dynamic=True))
    new_track_threshold: float = field(default=_TRACKING.new_track_threshold, metadata=param(
        "an unmatched detection at or above this score starts a track", low=0.0, high=1.0, dynamic=True))
    track_buffer_s: float = field(default=_TRACKING.track_buffer_s, metadata=param(
        "lost tracks are removed after this long without a match [s] (time-based profiles)", low=0.0,
        high=60.0, dynamic=True))
    attach_poses_2d: bool = field(default=False, metadata=param("wait for and attach 2D poses of the same stamp"))
    attach_poses_3d: bool = field(default=False, metadata=param("wait for and attach 3D poses of the same stamp"))
    pose_iou_threshold: float = field(default=0.5, metadata=param(
        "minimum box IoU between a track and a pose to attach it", low=0.0, high=1.0, dynamic=True))
    motion_compensation: bool = field(default=False, metadata=param(
        "subscribe to an image-plane homography (crowd_perception/Homography) per image"))
    sync_capacity: int = field(default=10, metadata=param(
        "stamps kept while waiting for the poses of a detection message", low=1, high=1000))


@dataclass(frozen=True)
class VisualizerNodeConfig(NodeConfig):
    confirmed_only: bool = field(default=True, metadata=param("draw confirmed tracks only", dynamic=True))
    sync_capacity: int = field(default=10, metadata=param(
        "stamps kept while waiting for the image / tracks partner message", low=1, high=1000))


NODE_CONFIGS = {
    "detector_node": DetectorNodeConfig,
    "occluded_pose_node": Pose2DNodeConfig,
    "pose3d_node": Pose3DNodeConfig,
    "tracker_node": TrackerNodeConfig,
    "visualizer_node": VisualizerNodeConfig,
}


def model_path(config: ModelNodeConfig) -> Path:
    """The configured model file, or the shipped default ``weights/<model>.onnx``."""
    from ..models.registry import get_model

    return Path(config.model_path) if config.model_path else get_model(config.MODEL).onnx()


def build_runner(config: Any) -> Any:
    """The runner a node config asks for, loading its model once (clear error when it is missing).

    Model runners come from the model registry (:func:`crowd_perception.models.registry.runner_class`). A model
    file whose metadata or embedded config has the wrong types or keys (``input_size`` as strings,
    an unknown post-processing key, a config that is not JSON) is a :class:`ModelMismatchError`
    naming the file, not a bare ``TypeError`` from deep inside the runner.
    """
    if isinstance(config, TrackerNodeConfig):
        return Tracker(tracker_config(config))
    from ..models.registry import runner_class
    from ..runtime.metadata import ModelMismatchError

    path = model_path(config)
    if not path.is_file():
        raise FileNotFoundError(f"{config.MODEL} model not found: {path} (set the model_path parameter)")
    options = config.runner_options()
    runner = runner_class(config.MODEL)
    try:
        return runner(path, backend=config.backend, threads=config.threads, **options)
    except (TypeError, KeyError, ValueError) as exc:
        if isinstance(exc, CrowdPerceptionError):
            raise
        raise ModelMismatchError(f"{path}: the {config.MODEL} model's metadata or config cannot be used: "
                                 f"{type(exc).__name__}: {exc}") from exc


def tracker_config(config: TrackerNodeConfig) -> TrackerConfig:
    """The tracking profile with the node's run-time thresholds applied."""
    return get_profile(config.profile).replace(
        detection_threshold=config.detection_threshold,
        new_track_threshold=config.new_track_threshold,
        track_buffer_s=config.track_buffer_s,
        camera_motion=config.motion_compensation,
    )


def runner_skeleton(runner: Any, default: str) -> str:
    """The skeleton a pose runner predicts (``runner.skeleton`` or ``runner.config.skeleton``), else ``default``."""
    return getattr(runner, "skeleton", None) or getattr(getattr(runner, "config", None), "skeleton", None) or default


def runner_identity(runner: Any) -> str:
    """Backend and model of a runner, for the diagnostics."""
    backend = getattr(runner, "backend", None)
    name = getattr(backend, "name", None) or getattr(runner, "name", None) or type(runner).__name__
    return f"{type(runner).__name__} on {name}"


# ------------------------------------------------------------------------------------- stages


class Stage:
    """A config and a runner; ``reconfigure`` applies run-time parameter changes."""

    config: Any
    runner: Any

    def reconfigure(self, config: Any) -> None:
        self.config = config


def _flag(stage: Any, reason: str) -> None:
    stage.flagged[reason] = stage.flagged.get(reason, 0) + 1
    if stage.flagged[reason] in (1, 10, 100, 1000):
        _LOG.warning("%s: %s, no people reported (%d so far)", type(stage).__name__, reason, stage.flagged[reason])


def _forward(stage: Any, call: Callable[[], R]) -> R | None:
    """The runner's result, or None when its network output was not finite (counted in ``non_finite``)."""
    try:
        return call()
    except NonFiniteOutputError as exc:
        stage.non_finite += 1
        if stage.non_finite in (1, 10, 100, 1000):
            _LOG.warning("%s: %s; the frame's result is dropped (%d so far)", type(stage).__name__, exc,
                         stage.non_finite)
        return None


@dataclass
class DetectorStage(Stage):
    config: DetectorNodeConfig
    runner: Detector
    non_finite: int = 0  # frames whose network output held NaN/inf (a broken model or FP16 overflow): no result
    flagged: dict[str, int] = field(default_factory=dict)  # images the health check answered with no people
    too_small: int = 0  # detections dropped for a side under MIN_BOX_SIDE (zero-width and sliver boxes)

    def process(self, image: np.ndarray) -> Detections:
        """Detections of one BGR image above the score threshold, best first, at most ``max_detections``.

        A frame whose network output is not finite gets none, counted in ``non_finite`` (with a
        warning); so does an image that cannot show anyone (:func:`image_fault`), counted in
        ``flagged``. Boxes with a side under :data:`MIN_BOX_SIDE` px are dropped, counted in ``too_small``.
        """
        fault = image_fault(image) if self.config.image_health_check else None
        if fault is not None:
            _flag(self, fault)
            return Detections.empty()
        detections = _forward(self, lambda: _finite_detections(self.runner.detect(image)))
        if detections is None:
            return Detections.empty()
        sides = np.minimum(detections.boxes[:, 2] - detections.boxes[:, 0], detections.boxes[:, 3] - detections.boxes[:, 1])
        self.too_small += int((sides < MIN_BOX_SIDE).sum())
        order = np.argsort(-detections.scores, kind="stable")
        keep = (detections.scores[order] >= self.config.score_threshold) & (sides[order] >= MIN_BOX_SIDE)
        return detections.select(order[keep][: self.config.max_detections])


def _finite_detections(detections: Detections) -> Detections:
    """``detections``, or :class:`NonFiniteOutputError` when a box, score or embedding is NaN/inf
    (a runner that does not run on a runtime backend, which checks the network output itself)."""
    if not (np.isfinite(detections.boxes).all() and np.isfinite(detections.scores).all()
            and np.isfinite(detections.embeddings).all()):
        raise NonFiniteOutputError(f"{type(detections).__name__} with NaN/inf values")
    return detections


@dataclass
class Pose2DStage(Stage):
    config: Pose2DNodeConfig
    runner: PoseEstimator
    non_finite: int = 0  # frames whose network output held NaN/inf: no poses
    unposed: int = 0  # detections at or above min_box_score left without a pose by max_people

    def __post_init__(self) -> None:
        self.runner.occlusion_threshold = self.config.occlusion_threshold

    def reconfigure(self, config: Pose2DNodeConfig) -> None:
        """Apply run-time parameter changes (the occlusion threshold goes to the runner once, here)."""
        self.config = config
        self.runner.occlusion_threshold = config.occlusion_threshold

    def process(self, image: np.ndarray, detections: Detections) -> Poses2D:
        """One pose per detection at or above ``min_box_score`` (the ``max_people`` tallest), in detection order."""
        chosen = detections.select(self._posed(detections))
        poses = _forward(self, lambda: self.runner.estimate(image, chosen.boxes))
        if poses is None:  # non-finite network output: no poses for this frame
            return Poses2D.empty(runner_skeleton(self.runner, "coco17"))
        poses.person_scores = chosen.scores.copy()
        return poses

    def _posed(self, detections: Detections) -> np.ndarray:
        """Indices of the detections to pose: score at or above ``min_box_score``, at most ``max_people`` of
        them, the tallest boxes first (the nearest people, whom a planner needs most); the rest are counted."""
        index = np.flatnonzero(detections.scores >= self.config.min_box_score)
        limit = self.config.max_people
        if limit and len(index) > limit:
            heights = detections.boxes[index, 3] - detections.boxes[index, 1]
            self.unposed += len(index) - limit
            index = np.sort(index[np.argsort(-heights, kind="stable")[:limit]])
        return index


def camera_for_image(camera: PinholeCamera | None, width: int, height: int) -> tuple[PinholeCamera | None, str | None]:
    """The camera for an image of this size (rescaled when only the resolution differs), or None and why."""
    if camera is None:
        return None, "no CameraInfo received"
    if (camera.width, camera.height) == (width, height):
        return camera, None
    sx, sy = width / camera.width, height / camera.height
    if abs(sx - sy) > 1e-3:
        return None, f"CameraInfo is for {camera.width}x{camera.height}, image is {width}x{height}"
    return camera.scaled(sx, sy), None


@dataclass
class Pose3DStage(Stage):
    config: Pose3DNodeConfig
    runner: Pose3DEstimator
    flagged: dict[str, int] = field(default_factory=dict)  # images the health check answered with no people
    non_finite: int = 0  # frames whose network output held NaN/inf: no poses

    def process(self, image: np.ndarray, camera: PinholeCamera | None) -> Poses3D:
        """3D poses above the score threshold; without ``camera`` they are flagged as not placed by intrinsics.

        An image that cannot show anyone (:func:`image_fault`) gets none, counted in ``flagged``; so
        does a frame whose network output is not finite, counted in ``non_finite``.
        """
        fault = image_fault(image) if self.config.image_health_check else None
        if fault is not None:
            _flag(self, fault)
        poses = _forward(self, lambda: self.runner.estimate(image, camera)) if fault is None else None
        if poses is None:
            return Poses3D.empty(runner_skeleton(self.runner, "body22"))
        keep = np.flatnonzero(poses.person_scores >= self.config.score_threshold)
        return Poses3D(
            poses.skeleton,
            poses.joints_relative[keep],
            joints_camera=poses.joints_camera[keep],
            scores=poses.scores[keep],
            boxes=poses.boxes[keep],
            person_scores=poses.person_scores[keep],
            placed_with_intrinsics=poses.placed_with_intrinsics[keep],
        )


@dataclass
class TrackerStage(Stage):
    config: TrackerNodeConfig
    runner: Tracker

    def __post_init__(self) -> None:
        self.runner.config = tracker_config(self.config)  # the node's parameters are authoritative

    def reconfigure(self, config: TrackerNodeConfig) -> None:
        """Apply run-time threshold changes to the running tracker (its tracks are kept)."""
        self.config = config
        self.runner.config = tracker_config(config)

    def process(
        self,
        detections: Detections,
        stamp_ns: int,
        poses_2d: Poses2D | None = None,
        poses_3d: Poses3D | None = None,
        homography: np.ndarray | None = None,
    ) -> Tracks:
        """Tracks after this frame, with the poses of this stamp attached to the tracks they overlap."""
        tracks = self.runner.update(detections, stamp_ns, homography)
        if poses_2d is not None:
            tracks.poses_2d = _attach(tracks, poses_2d, self.config.pose_iou_threshold)
        if poses_3d is not None:
            tracks.poses_3d = _attach(tracks, poses_3d, self.config.pose_iou_threshold)
        return tracks


def _attach(tracks: Tracks, poses: P, min_iou: float) -> P:
    """Row-aligned poses for ``tracks``: a one-to-one IoU matching of updated tracks and pose boxes.

    Only tracks matched in this frame (``time_since_update == 0``) get a pose; rows without one are NaN.
    """
    n = len(tracks)
    out: P
    if isinstance(poses, Poses2D):
        out = Poses2D(poses.skeleton, np.full((n, *poses.keypoints.shape[1:]), np.nan))
    else:
        out = Poses3D(poses.skeleton, np.full((n, *poses.joints_relative.shape[1:]), np.nan))
    fresh = np.flatnonzero(tracks.time_since_update == 0)
    if len(fresh) == 0 or len(poses) == 0:
        return out
    iou = box_iou(tracks.boxes[fresh], poses.boxes)
    rows, cols = linear_sum_assignment(-iou)
    ok = iou[rows, cols] >= min_iou
    rows, cols = fresh[rows[ok]], cols[ok]
    for f in dataclasses.fields(out):
        if f.name != "skeleton":
            getattr(out, f.name)[rows] = getattr(poses, f.name)[cols]
    return out
