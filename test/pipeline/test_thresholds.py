"""Each threshold has one home. The node configs (pipeline/stages.py) hold the operating points; the
shipped params file states the same values; a model keeps nothing below its own floor, which its
export metadata (and so its card) states, and the operating point sits at or above that floor."""

from __future__ import annotations

import dataclasses

import pytest

from crowd_perception.pipeline import default_config_path
from crowd_perception.pipeline.params import node_config_from_file, param_specs
from crowd_perception.pipeline.pipeline import DEFAULT_NAMESPACE
from crowd_perception.pipeline.stages import NODE_CONFIGS, DetectorNodeConfig, Pose2DNodeConfig, TrackerNodeConfig


def _thresholds(config_cls: type) -> list[str]:
    """The run-time changeable numbers of a node: its thresholds (scores, IoUs, durations)."""
    return [s.name for s in param_specs(config_cls) if s.dynamic and s.type is float]


@pytest.mark.parametrize("node", sorted(NODE_CONFIGS))
def test_the_params_file_states_the_node_configs_operating_points(node):
    config_cls = NODE_CONFIGS[node]
    shipped = node_config_from_file(config_cls, default_config_path(), node, DEFAULT_NAMESPACE, known_nodes=NODE_CONFIGS)
    default = config_cls()
    for name in _thresholds(config_cls):
        assert getattr(shipped, name) == getattr(default, name), f"{node}.{name}: params file and {config_cls.__name__} differ"


def test_every_threshold_is_covered():
    names = {n: _thresholds(c) for n, c in NODE_CONFIGS.items()}
    assert names["detector_node"] == ["score_threshold"]
    assert set(names["occluded_pose_node"]) == {"occlusion_threshold", "min_box_score"}
    assert {"detection_threshold", "new_track_threshold", "track_buffer_s", "pose_iou_threshold"} <= set(names["tracker_node"])


def test_the_pose_node_poses_what_the_trackers_first_stage_keeps():
    assert Pose2DNodeConfig().min_box_score == TrackerNodeConfig().detection_threshold


def test_the_detector_operating_point_is_above_the_shipped_models_floor():
    from crowd_perception.models.detector.runner import DetectorExportInfo
    from crowd_perception.models.registry import get_model
    from crowd_perception.runtime.metadata import ModelMetadata, metadata_path

    meta = ModelMetadata.load(metadata_path(get_model("detector").onnx()))
    floor = DetectorExportInfo.from_extra(meta.extra).postprocess.score_threshold
    assert 0.0 < floor <= DetectorNodeConfig().score_threshold


def test_no_threshold_field_is_declared_twice():
    """The node configs are the only ``*NodeConfig`` classes; their thresholds are fields, not module constants."""
    import crowd_perception.pipeline.stages as stages

    constants = [k for k, v in vars(stages).items() if k.isupper() and isinstance(v, float) and 0 < v < 1]
    assert constants == []
    assert all(dataclasses.is_dataclass(c) and c.__name__.endswith("NodeConfig") for c in NODE_CONFIGS.values())


def test_the_shipped_runners_satisfy_the_stage_protocols():
    from crowd_perception.pipeline.runners import Detector, Pose3DEstimator, PoseEstimator
    from crowd_perception.pipeline.stages import Pose3DNodeConfig, build_runner

    assert isinstance(build_runner(DetectorNodeConfig()), Detector)
    assert isinstance(build_runner(Pose2DNodeConfig()), PoseEstimator)
    assert isinstance(build_runner(Pose3DNodeConfig()), Pose3DEstimator)


def test_the_tracker_node_keeps_its_profiles_buffer_and_raises_only_the_score_thresholds():
    """The profile is the association (JDE's 0.5 score thresholds for any detector); the node's score
    thresholds are the operating point for the shipped detector's scores, chosen on the bench preset."""
    from crowd_perception.tracking import get_profile

    node = TrackerNodeConfig()
    profile = get_profile(node.profile)
    assert node.track_buffer_s == profile.track_buffer_s
    assert profile.detection_threshold <= node.detection_threshold <= node.new_track_threshold
