"""The stages answer a faulty network output or a degenerate box with no result, and count it."""

from __future__ import annotations

import numpy as np
import pytest

from crowd_perception.core.errors import NonFiniteOutputError
from crowd_perception.core.types import Detections
from crowd_perception.pipeline import stages


class _Raising:
    """A runner whose backend found NaN/inf in the network output."""

    skeleton = "coco17"

    def detect(self, image, *args):
        raise NonFiniteOutputError("fake: non-finite network output ('scores' 3 NaN, 0 inf)")

    estimate = detect


class _Boxes:
    def __init__(self, boxes, scores, embeddings=None):
        self.result = Detections(np.asarray(boxes, np.float32), np.asarray(scores, np.float32),
                                 embeddings=embeddings if embeddings is not None else np.eye(len(scores), 2))

    def detect(self, image):
        return self.result


def _image(size=32):
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    return np.repeat((ramp[:, None] + ramp[None, :]) / 2, 3).reshape(size, size, 3).astype(np.uint8)


def test_non_finite_network_output_drops_the_frames_result_and_counts_it(caplog):
    detector = stages.DetectorStage(stages.DetectorNodeConfig(), _Raising())
    pose = stages.Pose2DStage(stages.Pose2DNodeConfig(), _Raising())
    pose3d = stages.Pose3DStage(stages.Pose3DNodeConfig(), _Raising())
    with caplog.at_level("WARNING"):
        assert len(detector.process(_image())) == 0
        assert len(pose.process(_image(), Detections([[0, 0, 10, 20]], [0.9]))) == 0
        assert len(pose3d.process(_image(), None)) == 0
    assert (detector.non_finite, pose.non_finite, pose3d.non_finite) == (1, 1, 1)
    assert "non-finite network output" in caplog.text and "dropped" in caplog.text


@pytest.mark.parametrize("fault", ["box", "score", "embedding"])
def test_non_finite_values_in_a_runners_detections_drop_the_whole_frame(fault):
    boxes, scores, embeddings = [[0, 0, 10, 20], [2, 2, 12, 22]], [0.9, 0.8], np.eye(2, 2)
    if fault == "box":
        boxes[1][2] = np.inf  # +inf: post-processing would have clipped it to a whole-image box
    elif fault == "score":
        scores[0] = np.nan
    else:
        embeddings[0, 0] = np.nan
    stage = stages.DetectorStage(stages.DetectorNodeConfig(score_threshold=0.0), _Boxes(boxes, scores, embeddings))
    assert len(stage.process(_image())) == 0 and stage.non_finite == 1


def test_boxes_under_the_minimum_side_are_dropped_and_counted():
    boxes = [[5, 5, 5, 20], [0, 0, 10, 1], [0, 0, 16, 16], [3, 3, 3 + stages.MIN_BOX_SIDE, 9]]
    stage = stages.DetectorStage(stages.DetectorNodeConfig(score_threshold=0.0), _Boxes(boxes, [0.9, 0.8, 0.7, 0.6]))
    kept = stage.process(_image(16))
    assert kept.boxes.tolist() == [[0, 0, 16, 16], [3, 3, 3 + stages.MIN_BOX_SIDE, 9]] and stage.too_small == 2


@pytest.mark.parametrize(("size", "reason"), [(1, "image too small"), (16, "image too small"), (32, "noise image")])
def test_tiny_and_noise_images_give_no_people(size, reason):
    noise = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    runner = _Boxes([[0, 0, 0, 1], [0, 0, 8, 16]], [0.9, 0.9])
    detector = stages.DetectorStage(stages.DetectorNodeConfig(image_health_check=True), runner)
    assert len(detector.process(noise)) == 0 and detector.flagged == {reason: 1}


def test_a_model_whose_metadata_has_an_unknown_postprocess_key_is_a_named_error(tmp_path):
    import json
    import shutil

    from crowd_perception.models.registry import get_model
    from crowd_perception.runtime.metadata import ModelMismatchError

    shipped = get_model("detector").onnx()
    model = tmp_path / "detector.onnx"
    shutil.copyfile(shipped, model)
    meta = json.loads(shipped.with_suffix(".json").read_text())
    meta["extra"]["postprocess"]["nms_iuo"] = 0.5  # a typo in a hand-edited file
    model.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelMismatchError, match=f"{model}: malformed export metadata .*nms_iuo"):
        stages.build_runner(stages.DetectorNodeConfig(model_path=str(model)))
    from crowd_perception.models.detector.runner import PedestrianDetector

    with pytest.raises(ModelMismatchError, match=f"{model}: malformed export metadata"):  # outside the pipeline too
        PedestrianDetector(model)


@pytest.mark.parametrize(("name", "drop"), [("detector", ("extra", "strides")), ("pose2d", ("skeleton",)), ("pose3d", ("extra", "model"))])
def test_a_model_whose_metadata_lacks_what_its_runner_needs_is_a_named_error(tmp_path, name, drop):
    import json
    import shutil

    from crowd_perception.models.registry import get_model, runner_class
    from crowd_perception.runtime.metadata import ModelMismatchError

    shipped = get_model(name).onnx()
    model = tmp_path / shipped.name
    shutil.copyfile(shipped, model)
    meta = json.loads(shipped.with_suffix(".json").read_text())
    section = meta
    for key in drop[:-1]:
        section = section[key]
    del section[drop[-1]]
    model.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelMismatchError, match=f"^{model}: "):
        runner_class(name)(model)
