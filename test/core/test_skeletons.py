import numpy as np
import pytest

from crowd_perception.core.skeletons import (
    BODY22,
    COCO17,
    CROWDPOSE14,
    PED13,
    SKELETONS,
    convert_joint_states,
    convert_keypoints,
    get_skeleton,
    joint_mapping,
)


def test_known_sizes():
    assert (BODY22.num_joints, COCO17.num_joints, CROWDPOSE14.num_joints, PED13.num_joints) == (22, 17, 14, 13)
    assert BODY22.joints[BODY22.root] == "pelvis"


@pytest.mark.parametrize("target", ["coco17", "crowdpose14", "ped13"])
def test_body22_covers_every_benchmark_skeleton(target):
    assert (joint_mapping("body22", target) >= 0).all()


def test_convert_keypoints_moves_named_joints_and_marks_missing():
    kp = np.arange(17 * 2, dtype=np.float32).reshape(17, 2)
    out = convert_keypoints(kp, "coco17", "crowdpose14")
    assert np.array_equal(out[0], kp[COCO17.index("left_shoulder")])
    assert np.isnan(out[CROWDPOSE14.index("head_top")]).all()
    back = convert_keypoints(out, "crowdpose14", "coco17")
    assert np.array_equal(back[COCO17.index("right_ankle")], kp[COCO17.index("right_ankle")])
    assert np.isnan(back[COCO17.index("nose")]).all()


def test_jta_aliases_map_spine_to_pelvis():
    mapping = joint_mapping("jta22", "body22")
    assert SKELETONS["jta22"].joints[mapping[BODY22.index("pelvis")]] == "spine4"


@pytest.mark.parametrize("skeleton", list(SKELETONS.values()), ids=list(SKELETONS))
def test_flip_permutation_is_an_involution(skeleton):
    perm = skeleton.flip_permutation()
    assert np.array_equal(perm[perm], np.arange(skeleton.num_joints))
    for a, b in skeleton.flip_pairs:
        assert skeleton.joints[a].replace("left_", "") == skeleton.joints[b].replace("right_", "")


def test_unknown_skeleton_and_wrong_shape_are_clear_errors():
    with pytest.raises(ValueError, match="unknown skeleton"):
        get_skeleton("coco18")
    with pytest.raises(ValueError, match="expected"):
        convert_keypoints(np.zeros((16, 2)), "coco17", "ped13")


def test_convert_joint_states_reorders_and_marks_missing_joints_unknown():
    from crowd_perception.core.types import JointState

    states = np.full((2, 17), JointState.VISIBLE, np.uint8)
    states[1, COCO17.index("left_wrist")] = JointState.SELF_OCCLUDED
    out = convert_joint_states(states, "coco17", "body22")
    assert out.dtype == np.uint8 and out.shape == (2, 22)
    assert out[1, BODY22.index("left_wrist")] == JointState.SELF_OCCLUDED
    assert out[0, BODY22.root] == JointState.UNKNOWN  # COCO has no pelvis
    np.testing.assert_array_equal(convert_joint_states(out, "body22", "coco17"), states)
