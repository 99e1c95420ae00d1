"""Geometry and labelling consistency of generated frames (the issue's "done when" checks)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crowd_perception.core.skeletons import BODY22
from crowd_perception.core.types import JointState
from crowd_perception.synth import generate, sequence_names
from crowd_perception.synth.labels import NEIGHBOURS, joint_pixels

from .conftest import tiny_config


def test_contract_fields(tiny_samples):
    for sample in tiny_samples:
        a = sample.annotation
        assert sample.image.dtype == np.uint8 and sample.image.shape == (a.height, a.width, 3)
        assert a.persons.skeleton == "body22" and a.domain == "a"
        assert a.instance_map.shape == (a.height, a.width) and a.instance_map.dtype == np.int32
        assert a.camera is not None and (a.camera.width, a.camera.height) == (a.width, a.height)
        p = a.persons
        assert np.all(np.isfinite(p.keypoints)) and np.all(np.isfinite(p.joints_3d)) and np.all(np.isfinite(p.boxes))
        assert np.all(p.keypoint_states != JointState.UNKNOWN)
        assert np.all(p.ids > 0) and len(np.unique(p.ids)) == len(p)
        assert np.all((p.visible_fractions >= 0) & (p.visible_fractions <= 1))
        np.testing.assert_allclose(p.distances, np.linalg.norm(p.joints_3d[:, BODY22.root], axis=-1), rtol=1e-5)
    assert sum(len(s.annotation.persons) for s in tiny_samples) > 20


def test_projection_of_joints_3d_matches_keypoints(tiny_samples):
    for sample in tiny_samples:
        a = sample.annotation
        projected = a.camera.project(a.persons.joints_3d.astype(np.float64))
        assert np.abs(projected - a.persons.keypoints).max(initial=0.0) < 1e-2  # sub-pixel (float32 storage)
        assert np.all(a.persons.joints_3d[..., 2] > 0)


def test_full_box_contains_keypoints_and_visible_box(tiny_samples):
    for sample in tiny_samples:
        p = sample.annotation.persons
        kp = p.keypoints
        assert np.all(kp[..., 0] >= p.boxes[:, None, 0] - 1e-3) and np.all(kp[..., 0] <= p.boxes[:, None, 2] + 1e-3)
        assert np.all(kp[..., 1] >= p.boxes[:, None, 1] - 1e-3) and np.all(kp[..., 1] <= p.boxes[:, None, 3] + 1e-3)
        seen = np.isfinite(p.visible_boxes[:, 0])
        # Visible box lies inside the amodal box (up to the pixel grid).
        assert np.all(p.visible_boxes[seen, :2] >= np.floor(p.boxes[seen, :2]) - 1)
        assert np.all(p.visible_boxes[seen, 2:] <= np.ceil(p.boxes[seen, 2:]) + 1)


def test_visible_boxes_and_fractions_come_from_the_mask(tiny_samples):
    for sample in tiny_samples:
        a = sample.annotation
        p = a.persons
        for i in range(len(p)):
            mask = a.person_mask(i)
            if not mask.any():
                assert np.all(np.isnan(p.visible_boxes[i])) and p.visible_fractions[i] == 0
                continue
            ys, xs = np.nonzero(mask)
            np.testing.assert_array_equal(p.visible_boxes[i], [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            assert p.visible_fractions[i] > 0
        assert a.instance_map.min() >= 0 and a.instance_map.max() <= len(p)


def test_states_agree_with_the_instance_mask(tiny_samples, close_samples):
    counts = dict.fromkeys(JointState, 0)
    for sample in tiny_samples + close_samples:
        a = sample.annotation
        p = a.persons
        px, inside = joint_pixels(p.keypoints, a.width, a.height)
        for i, j in np.ndindex(p.keypoint_states.shape):
            state = JointState(p.keypoint_states[i, j])
            counts[state] += 1
            if state == JointState.OUTSIDE_IMAGE:
                assert not inside[i, j]
                continue
            assert inside[i, j]
            cols = np.clip(px[i, j, 0] + NEIGHBOURS[:, 0], 0, a.width - 1)
            rows = np.clip(px[i, j, 1] + NEIGHBOURS[:, 1], 0, a.height - 1)
            owner = a.instance_map[px[i, j, 1], px[i, j, 0]]
            around = a.instance_map[rows, cols]
            if state == JointState.VISIBLE:
                # Own pixel, or (sub-pixel sliver) own pixel next to it, or nothing painted around.
                assert owner == i + 1 or (owner == 0 and (i + 1 in around or not around.any()))
            elif state == JointState.OCCLUDED_BY_PERSON:
                assert owner not in (0, i + 1) or (owner == 0 and around[around > 0][0] != i + 1)
            elif state == JointState.SELF_OCCLUDED:
                assert owner == i + 1 or owner == 0
            elif state == JointState.OCCLUDED_BY_OBJECT:
                assert owner == 0  # occluder pixels are background in the person instance map
            else:
                pytest.fail(f"unexpected state {state}")
    # The tiny street and the close crowd exercise every state.
    for state in (JointState.VISIBLE, JointState.OCCLUDED_BY_PERSON, JointState.OCCLUDED_BY_OBJECT,
                  JointState.SELF_OCCLUDED, JointState.OUTSIDE_IMAGE):
        assert counts[state] > 0, f"no joint in state {state.name}"


def test_outside_image_iff_keypoint_outside(tiny_samples, close_samples):
    for sample in tiny_samples + close_samples:
        a = sample.annotation
        _, inside = joint_pixels(a.persons.keypoints, a.width, a.height)
        np.testing.assert_array_equal(a.persons.keypoint_states == JointState.OUTSIDE_IMAGE, ~inside)


def test_deterministic_per_seed():
    config = tiny_config(frames=2, count=1)
    first = list(generate(config, seed=3))
    second = list(generate(config, seed=3))
    other = list(generate(config, seed=4))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.annotation.instance_map, b.annotation.instance_map)
        np.testing.assert_array_equal(a.annotation.persons.keypoints, b.annotation.persons.keypoints)
        np.testing.assert_array_equal(a.annotation.persons.keypoint_states, b.annotation.persons.keypoint_states)
    assert not np.array_equal(first[0].image, other[0].image)


def test_single_sequence_regenerates_identically(tiny_samples):
    frames = 4
    again = list(generate(tiny_config(), seed=0, sequences=[1]))
    assert len(again) == frames
    for a, b in zip(tiny_samples[frames:], again, strict=True):
        np.testing.assert_array_equal(a.image, b.image)
        assert a.annotation.image_id == b.annotation.image_id


def test_ids_stable_over_a_sequence(tiny_samples):
    by_sequence: dict[str, list] = {}
    for sample in tiny_samples:
        by_sequence.setdefault(sample.annotation.sequence, []).append(sample.annotation)
    assert list(by_sequence) == sequence_names(tiny_config())
    for frames in by_sequence.values():
        assert [f.frame_index for f in frames] == list(range(len(frames)))
        stamps = np.array([f.stamp_ns for f in frames])
        assert np.all(np.diff(stamps) == 100_000_000)  # 10 fps
        for prev, cur in itertools.pairwise(frames):
            common, i, j = np.intersect1d(prev.persons.ids, cur.persons.ids, return_indices=True)
            assert len(common) >= len(prev.persons) // 2
            # The same identity moves by less than a running person's step in 3D.
            moved = np.linalg.norm(prev.persons.joints_3d[i, 0] - cur.persons.joints_3d[j, 0], axis=-1)
            assert np.all(moved < 1.5)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="out of range"):
        list(generate(tiny_config(), sequences=[5]))
    with pytest.raises(ValueError, match="seed"):
        next(generate(tiny_config(), seed=-1))
    with pytest.raises(TypeError, match="SynthConfig"):
        next(generate(42))
    with pytest.raises(ValueError, match="unknown synth preset"):
        next(generate("nope"))


def test_full_hd_frames():
    config = tiny_config(people=(20, 20), frames=1, count=1).with_image_size(1920, 1080)
    sample = next(generate(config, seed=0))
    assert sample.image.shape == (1080, 1920, 3)
    a = sample.annotation
    assert a.camera.width == 1920 and a.instance_map.shape == (1080, 1920)
    projected = a.camera.project(a.persons.joints_3d.astype(np.float64))
    assert np.abs(projected - a.persons.keypoints).max(initial=0.0) < 1e-2


def test_empty_street():
    samples = list(generate(tiny_config(people=(0, 0), frames=3, count=1), seed=0))
    assert [len(s.annotation.persons) for s in samples] == [0, 0, 0]
    assert all(s.annotation.instance_map.max() == 0 for s in samples)


def test_whole_people_have_matching_mask_and_body_boxes(tiny_samples, close_samples):
    # For people seen whole, the mask's box matches the projected body's box to the pixel, with no
    # systematic shift between the two (the drawing convention itself is tested in test_raster).
    offsets = []
    for sample in tiny_samples + close_samples:
        p = sample.annotation.persons
        a = sample.annotation
        whole = (p.visible_fractions == 1.0) & (p.boxes[:, 0] > 0) & (p.boxes[:, 1] > 0) & (
            p.boxes[:, 2] < a.width) & (p.boxes[:, 3] < a.height)
        offsets.append(p.visible_boxes[whole] - p.boxes[whole])
    offsets = np.concatenate(offsets)
    assert len(offsets) >= 15  # enough whole people in the cluttered tiny streets to see a systematic shift
    assert np.abs(offsets).max() <= 1.0
    centre_shift = 0.5 * (offsets[:, :2] + offsets[:, 2:])
    assert np.all(np.abs(centre_shift.mean(axis=0)) < 0.2)
