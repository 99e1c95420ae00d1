"""Conversions between our ground truth and the formats: skeletons, COCO flags, boxes from joints."""

from __future__ import annotations

import numpy as np

from crowd_perception.core.skeletons import COCO17, CROWDPOSE14
from crowd_perception.core.types import JointState
from crowd_perception.formats.convert import (
    coco_flags,
    convert_annotation,
    convert_persons,
    keypoint_boxes,
    states_from_coco_flags,
)

from .conftest import make_frame


def test_convert_persons_to_coco_and_crowdpose_keeps_named_joints():
    persons = make_frame(0).persons
    coco = convert_persons(persons, "coco17")
    assert coco.keypoints.shape == (4, 17, 2)
    np.testing.assert_array_equal(coco.keypoints[:, COCO17.index("left_knee")], persons.keypoints[:, 18])
    np.testing.assert_array_equal(coco.keypoint_states[:, 0], persons.keypoint_states[:, 5])  # nose
    crowd = convert_persons(persons, "crowdpose14")
    np.testing.assert_array_equal(crowd.joints_3d[:, CROWDPOSE14.index("head_top")], persons.joints_3d[:, 4])
    np.testing.assert_array_equal(crowd.boxes, persons.boxes)
    back = convert_persons(coco, "body22")
    assert np.isnan(back.keypoints[:, 0]).all() and (back.keypoint_states[:, 0] == JointState.UNKNOWN).all()
    assert convert_annotation(make_frame(0), "coco17").persons.skeleton == "coco17"


def test_coco_flags_and_back():
    keypoints = np.array([[[1, 1], [2, 2], [3, 3], [50, 5], [np.nan, np.nan], [4, 4], [5, 5]]], dtype=float)
    states = np.array([[JointState.VISIBLE, JointState.OCCLUDED_BY_PERSON, JointState.SELF_OCCLUDED,
                        JointState.VISIBLE, JointState.VISIBLE, JointState.UNKNOWN, JointState.OUTSIDE_IMAGE]])
    flags = coco_flags(keypoints, states, width=10, height=10)
    assert flags.tolist() == [[2, 1, 1, 0, 0, 0, 0]]  # (50, 5) lies outside the 10x10 image
    assert states_from_coco_flags(flags).tolist() == [[JointState.VISIBLE, JointState.OCCLUDED, JointState.OCCLUDED,
                                                       0, 0, 0, 0]]


def test_keypoint_boxes_ignore_unknown_joints():
    keypoints = np.array([[[1, 5], [np.nan, np.nan], [4, 2]], [[np.nan, np.nan]] * 3], dtype=float)
    boxes = keypoint_boxes(keypoints)
    np.testing.assert_array_equal(boxes[0], [1, 2, 4, 5])
    assert np.isnan(boxes[1]).all()
