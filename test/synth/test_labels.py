"""Joint-state rules on a hand-made code map."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.skeletons import BODY22
from crowd_perception.core.types import JointState
from crowd_perception.synth.body import FACE_JOINTS, PARTS
from crowd_perception.synth.labels import instance_map, joint_states, visible_boxes
from crowd_perception.synth.raster import Raster

P = len(PARTS)
J = {name: i for i, name in enumerate(BODY22.joints)}


def _raster() -> Raster:
    """Two people (rows 0, 1) and one occluder on a 20x10 code map."""
    n = 2
    codes = 1 + n * P + 1
    code_row = np.full(codes, -1)
    code_part = np.full(codes, -1)
    code_row[1 : 1 + n * P] = np.repeat(np.arange(n), P)
    code_part[1 : 1 + n * P] = np.tile(np.arange(P), n)
    code_object = np.zeros(codes, bool)
    code_object[-1] = True
    code_map = np.zeros((10, 20), np.int32)
    code_map[:, 0:5] = 1 + PARTS.index("torso")  # person 0's torso
    code_map[:, 5:8] = 1 + PARTS.index("left_upper_arm")  # person 0's arm
    code_map[:, 8:12] = 1 + P + PARTS.index("head")  # person 1's head
    code_map[:, 12:15] = codes - 1  # the occluder
    boxes = np.array([[0, 0, 8, 10], [8, 0, 12, 10]], float)
    return Raster(code_map, code_row, code_part, code_object, boxes, np.array([80, 40]))


def _place(pixels: dict[str, tuple[float, float]], far: tuple[float, float] = (-5.0, -5.0)) -> np.ndarray:
    kp = np.tile(np.array(far, np.float32), (2, BODY22.num_joints, 1))
    for name, xy in pixels.items():
        kp[0, J[name]] = xy
    return kp


def test_state_rules():
    raster = _raster()
    kp = _place({"chest": (2, 5), "left_elbow": (2, 5), "left_shoulder": (6, 5), "pelvis": (9, 5),
                 "spine": (13, 5), "left_hip": (17.2, 5.0), "left_knee": (19.6, 9.6)})
    joints = np.zeros((2, BODY22.num_joints, 3))
    joints[..., 2] = 5.0
    states = joint_states(raster, kp, joints, np.zeros((2, 3)))[0]
    assert states[J["chest"]] == JointState.VISIBLE  # on its own torso
    assert states[J["left_elbow"]] == JointState.SELF_OCCLUDED  # behind its own torso
    assert states[J["left_shoulder"]] == JointState.VISIBLE  # the upper arm contains the shoulder
    assert states[J["pelvis"]] == JointState.OCCLUDED_BY_PERSON
    assert states[J["spine"]] == JointState.OCCLUDED_BY_OBJECT
    assert states[J["left_hip"]] == JointState.VISIBLE  # nothing painted around: nothing hides it
    assert states[J["head_top"]] == JointState.OUTSIDE_IMAGE  # at (-5, -5)
    assert states[J["left_knee"]] == JointState.VISIBLE  # rounds to column 20: still inside [0, 20)


def test_background_pixel_takes_the_nearest_painted_neighbour():
    raster = _raster()
    raster.code_map[5, 15] = 0
    raster.code_map[5, 14] = 0  # keep the diagonal neighbours of (15, 5) from the occluder only
    kp = _place({"chest": (15, 5)})
    states = joint_states(raster, kp, np.ones((2, BODY22.num_joints, 3)), np.zeros((2, 3)))[0]
    assert states[J["chest"]] == JointState.OCCLUDED_BY_OBJECT


def test_face_landmarks_turned_away_are_self_occluded():
    raster = _raster()
    raster.code_map[:, 0:5] = 1 + PARTS.index("head")
    kp = _place({name: (2, 5) for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")})
    joints = np.zeros((2, BODY22.num_joints, 3))
    head = np.array([0.0, 0.0, 5.0])
    joints[0, FACE_JOINTS] = head + np.array([[0, 0, -0.1], [0, 0, -0.1], [0, 0, -0.1], [0, 0, 0.1], [0, 0, 0.1]])
    states = joint_states(raster, kp, joints, np.stack([head, head]))[0]
    assert list(states[FACE_JOINTS]) == [JointState.VISIBLE] * 3 + [JointState.SELF_OCCLUDED] * 2


def test_instance_map_and_visible_boxes():
    raster = _raster()
    instances = instance_map(raster)
    assert set(np.unique(instances)) == {1, 2, 0}
    boxes, counts = visible_boxes(instances, raster.boxes)
    np.testing.assert_array_equal(boxes, [[0, 0, 8, 10], [8, 0, 12, 10]])
    np.testing.assert_array_equal(counts, [80, 40])
