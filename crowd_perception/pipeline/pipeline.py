"""The one pipeline of the node graph: the stages run in order on one image at a time.

The nodes run the same stages one per process; :class:`Pipeline` runs them in one process for the
offline replay, the demo and the benchmarks, configured from the nodes' own params file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..core.camera import PinholeCamera
from ..core.errors import InputError
from ..core.types import Detections, Poses2D, Poses3D, Tracks
from ..utils.resources import resource_dirs
from .params import config_from_params, node_config_from_file
from .stages import (
    NODE_CONFIGS,
    DetectorNodeConfig,
    DetectorStage,
    ModelNodeConfig,
    Pose2DNodeConfig,
    Pose2DStage,
    Pose3DNodeConfig,
    Pose3DStage,
    TrackerNodeConfig,
    TrackerStage,
    build_runner,
    camera_for_image,
    runner_skeleton,
)

__all__ = ["DEFAULT_NAMESPACE", "STAGES", "MODEL_STAGES", "FrameOutputs", "Pipeline", "default_config_path"]

STAGES = ("detector", "pose2d", "pose3d", "tracker")
_NODE_NAMES = {"detector": "detector_node", "pose2d": "occluded_pose_node", "pose3d": "pose3d_node",
               "tracker": "tracker_node"}
_STAGE_CLASSES = (("detector", DetectorNodeConfig, DetectorStage), ("pose2d", Pose2DNodeConfig, Pose2DStage),
                  ("pose3d", Pose3DNodeConfig, Pose3DStage), ("tracker", TrackerNodeConfig, TrackerStage))
# the stages that run a network; each is named after its model (ModelNodeConfig.MODEL), end to end
MODEL_STAGES = tuple(name for name, config, _ in _STAGE_CLASSES if issubclass(config, ModelNodeConfig))
DEFAULT_NAMESPACE = "crowd_perception"  # launch/crowd_perception.launch.py's default
_S = TypeVar("_S")


def default_config_path() -> Path:
    """``config/crowd_perception.yaml`` of the checkout, or the installed copy."""
    candidates = resource_dirs("config")
    for folder in candidates:
        if (folder / "crowd_perception.yaml").is_file():
            return folder / "crowd_perception.yaml"
    raise FileNotFoundError(f"crowd_perception.yaml not found in {[str(c) for c in candidates]}")


@dataclass
class FrameOutputs:
    """What the stages produced for one image (None for stages that did not run)."""

    detections: Detections | None = None
    poses_2d: Poses2D | None = None
    poses_3d: Poses3D | None = None
    tracks: Tracks | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # CPU time of the thread that ran the stage


@dataclass
class Pipeline:
    """The stages of the node graph, run in order on one image at a time.

    With ``overlap_3d`` the 3D stage, which needs only the image, runs in a worker thread while the
    detector, 2D pose and tracker run in the caller's: ONNX Runtime releases the GIL during
    inference, so a frame uses two cores (the node graph gets the same from its processes).
    """

    detector: DetectorStage | None = None
    pose2d: Pose2DStage | None = None
    pose3d: Pose3DStage | None = None
    tracker: TrackerStage | None = None
    overlap_3d: bool = False
    _worker: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if (self.pose2d is not None or self.tracker is not None) and self.detector is None:
            raise ValueError("the pose2d and tracker stages need the detector stage")

    def model_stages(self) -> list[DetectorStage | Pose2DStage | Pose3DStage]:
        """The stages that run a network, in order."""
        return [s for s in (self.detector, self.pose2d, self.pose3d) if s is not None]

    def reset(self) -> None:
        """Forget the tracks (ids keep counting): the next frame starts a new sequence."""
        if self.tracker is not None:
            self.tracker.runner.reset()

    @classmethod
    def from_config(cls, config_path: str | Path | None = None, stages: Sequence[str] = STAGES,
                    backend: str | None = None, runners: dict[str, Any] | None = None,
                    namespace: str = DEFAULT_NAMESPACE) -> Pipeline:
        """Stages configured from a ROS 2 params file (the nodes' own), models loaded once.

        The file is read as ROS reads it for nodes named ``<namespace>/<node>`` (the launch file's
        default namespace unless told otherwise); every stage's parameters are checked before any
        model is loaded. ``runners`` replaces the runner of a stage (tests use small fakes);
        ``backend`` overrides the inference backend of the model stages.
        """
        unknown = sorted(set(stages) - set(STAGES))
        if unknown:
            raise InputError(f"unknown stages {unknown}; choose from {', '.join(STAGES)}")
        if ("pose2d" in stages or "tracker" in stages) and "detector" not in stages:
            raise InputError("the pose2d and tracker stages need the detector stage")
        path = Path(config_path) if config_path else default_config_path()
        runners = runners or {}
        configs: dict[str, Any] = {}
        for name, config_cls, _ in _STAGE_CLASSES:
            if name not in stages:
                continue
            config = node_config_from_file(config_cls, path, _NODE_NAMES[name], namespace, known_nodes=NODE_CONFIGS)
            overrides: dict[str, Any] = {"live": False}  # frame-locked
            if backend and name != "tracker":
                overrides["backend"] = backend
            configs[name] = config_from_params(config_cls, overrides, base=config)
        built = {name: stage_cls(configs[name], runners[name] if name in runners else build_runner(configs[name]))
                 for name, _, stage_cls in _STAGE_CLASSES if name in configs}
        return cls(_stage(built, "detector", DetectorStage), _stage(built, "pose2d", Pose2DStage),
                   _stage(built, "pose3d", Pose3DStage), _stage(built, "tracker", TrackerStage))

    def run(self, image: np.ndarray, stamp_ns: int, camera: PinholeCamera | None,
            homography: np.ndarray | None = None) -> FrameOutputs:
        out = FrameOutputs()

        def timed(name: str, fn: Callable[[], Any]) -> Any:
            start, start_cpu = time.perf_counter(), time.thread_time()
            result = fn()
            out.seconds[name] = time.perf_counter() - start
            out.cpu_seconds[name] = time.thread_time() - start_cpu
            return result

        detector, pose2d, pose3d_stage, tracker = self.detector, self.pose2d, self.pose3d, self.tracker
        pose3d: Callable[[], Poses3D] | None = None
        if pose3d_stage is not None:
            cam, _ = camera_for_image(camera, image.shape[1], image.shape[0])
            if cam is not None or not pose3d_stage.config.require_camera_info:  # else skipped, as pose3d_node does
                pose3d = lambda: timed("pose3d", lambda: pose3d_stage.process(image, cam))  # noqa: E731
        overlapped = self._submit(pose3d) if pose3d is not None and self.overlap_3d else None
        detections: Detections | None = None
        if detector is not None:
            detections = out.detections = timed("detector", lambda: detector.process(image))
        if pose2d is not None and detections is not None:  # the pose stages need the detector (__post_init__)
            out.poses_2d = timed("pose2d", lambda: pose2d.process(image, detections))
        if pose3d is not None:
            out.poses_3d = overlapped.result() if overlapped is not None else pose3d()
        if tracker is not None and detections is not None:
            cfg = tracker.config
            out.tracks = timed("tracker", lambda: tracker.process(
                detections, stamp_ns,
                out.poses_2d if cfg.attach_poses_2d else None,
                out.poses_3d if cfg.attach_poses_3d else None,
                homography if cfg.motion_compensation else None,
            ))
        return out

    def _submit(self, fn: Callable[[], Poses3D]) -> Future[Poses3D]:
        """``fn`` on the worker thread (started on first use)."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pose3d")
        return self._worker.submit(fn)

    def run_empty(self, stamp_ns: int, homography: np.ndarray | None = None) -> FrameOutputs:
        """The outputs of a frame whose image could not be used: what the node graph publishes for it.

        The detector and pose stages give empty results with the frame's header; the tracker runs
        on the empty detections (its tracks age by one frame), as the tracker node would.
        """
        out = FrameOutputs()
        if self.detector is not None:
            out.detections = Detections.empty()
        if self.pose2d is not None:
            out.poses_2d = Poses2D.empty(runner_skeleton(self.pose2d.runner, "coco17"))
        if self.pose3d is not None:
            out.poses_3d = Poses3D.empty(runner_skeleton(self.pose3d.runner, "body22"))
        if self.tracker is not None and out.detections is not None:
            cfg = self.tracker.config
            out.tracks = self.tracker.process(out.detections, stamp_ns, None, None,
                                              homography if cfg.motion_compensation else None)
            if cfg.attach_poses_2d and out.poses_2d is not None:
                out.tracks.poses_2d = Poses2D(out.poses_2d.skeleton, np.full((len(out.tracks), *_joints(out.poses_2d, 2)), np.nan))
            if cfg.attach_poses_3d and out.poses_3d is not None:
                out.tracks.poses_3d = Poses3D(out.poses_3d.skeleton, np.full((len(out.tracks), *_joints(out.poses_3d, 3)), np.nan))
        return out


def _stage(built: dict[str, Any], name: str, kind: type[_S]) -> _S | None:
    """Stage ``name`` of those ``from_config`` built, as the class its pipeline slot holds."""
    stage = built.get(name)
    if stage is not None and not isinstance(stage, kind):
        raise TypeError(f"the {name} stage is a {type(stage).__name__}, not a {kind.__name__}")
    return stage


def _joints(poses: Poses2D | Poses3D, dims: int) -> tuple[int, int]:
    from ..core.skeletons import get_skeleton

    return get_skeleton(poses.skeleton).num_joints, dims
