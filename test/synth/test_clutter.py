"""Street clutter and hard negatives: every kind appears, none is ever a person, and they hide people."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from crowd_perception.core.camera import PinholeCamera
from crowd_perception.core.types import JointState
from crowd_perception.synth import generate
from crowd_perception.synth.body import HEAD_SPHERE, Gait, body_spheres, part_enabled, pose_joints, sample_shapes
from crowd_perception.synth.clutter import HARD_NEGATIVES, KINDS, build_object, place_clutter
from crowd_perception.synth.labels import instance_map, joint_states, visible_boxes
from crowd_perception.synth.palette import get_palette
from crowd_perception.synth.raster import rasterise
from crowd_perception.synth.rig import EgoMotion
from crowd_perception.synth.world import StreetLayout

from .conftest import tiny_config

CAMERA = PinholeCamera.from_fov(320, 180, 70.0)
POSE = EgoMotion(lane_x=-3.0, mount_height=1.5, pitch=0.0, speed=0.0, yaw_rate=0.0, intrinsics=CAMERA).pose(0.0)
# A narrow street whose left pavement lies straight ahead of the camera (x = -3): objects built on
# side -1 stand in front of it.
NARROW = StreetLayout(road_half=1.5, pavement=2.4, z_start=-30.0, z_end=250.0, crossing_z=40.0)
PALETTE = get_palette("temperate")


def _person(x: float, z: float, seed: int = 0):
    """One standing person at ground ``(x, z)`` facing the camera: camera-frame spheres, joints, parts."""
    shapes = sample_shapes(np.random.default_rng(seed), 1)
    joints = pose_joints(shapes, np.array([Gait.STAND]), np.zeros(1))
    spheres = body_spheres(joints, shapes)
    flip = np.array([-1.0, 1.0, -1.0])  # facing -Z: the body's forward points at the camera
    offset = np.array([x, 0.0, z])
    spheres_cam = np.concatenate([POSE.to_camera(spheres[..., :3] * flip + offset), spheres[..., 3:]], axis=-1)
    return spheres_cam, POSE.to_camera(joints * flip + offset), part_enabled(shapes)


def _render(people: list[tuple[float, float]], occluders):
    image = np.zeros((CAMERA.height, CAMERA.width, 3), np.uint8)
    built = [_person(x, z, seed) for seed, (x, z) in enumerate(people)]
    spheres = np.concatenate([b[0] for b in built]) if built else np.zeros((0, 1, 4))
    joints = np.concatenate([b[1] for b in built]) if built else np.zeros((0, 22, 3))
    enabled = np.concatenate([b[2] for b in built]) if built else np.zeros((0, 1), bool)
    colours = np.full((len(built), enabled.shape[1], 3), 200.0)
    ground = np.array(people, dtype=float).reshape(-1, 2)
    raster = rasterise(image, POSE, spheres, colours, enabled, ground, occluders)
    return image, raster, spheres, joints


def test_every_kind_is_placed_without_overlap():
    seen = set()
    for seed in range(3):
        objects = place_clutter(np.random.default_rng(seed), PALETTE, replace(NARROW, road_half=5.0), 60, 1.5)
        seen |= {o.kind for o in objects}
        fps = np.array([o.footprint for o in objects])
        for i in range(len(fps)):
            for j in range(i + 1, len(fps)):
                a, b = fps[i], fps[j]
                assert a[1] <= b[0] or b[1] <= a[0] or a[3] <= b[2] or b[3] <= a[2]
    assert seen == set(KINDS)


@pytest.mark.parametrize("kind", HARD_NEGATIVES)
def test_hard_negatives_are_person_sized_and_shaped(kind):
    for seed in range(5):
        obj = build_object(kind, np.random.default_rng(seed), PALETTE, NARROW, -1.0, 8.0)
        assert obj.kind == kind and len(obj.hulls) >= 15  # one hull per body part
        spheres = obj.hull_spheres
        top, bottom = (spheres[:, 1] + spheres[:, 3]).max(), (spheres[:, 1] - spheres[:, 3]).min()
        assert 0.8 < top - bottom < 2.8  # a body (statues up to 1.4x life size)
        x0, x1, z0, z1 = obj.footprint
        assert x0 < x1 and z0 < z1


@pytest.mark.parametrize("kind", HARD_NEGATIVES)
def test_a_hard_negative_in_view_is_drawn_but_never_labelled(kind):
    obj = build_object(kind, np.random.default_rng(1), PALETTE, NARROW, -1.0, 7.0)
    image, raster, _, _ = _render([], [obj])
    drawn = raster.code_map > 0
    assert drawn.sum() > 300 and image[drawn].any()  # a sizeable figure in front of the camera
    assert np.all(raster.code_object[np.unique(raster.code_map[drawn])])
    assert np.all(raster.code_row[raster.code_map] < 0)
    assert not instance_map(raster).any() and len(raster.boxes) == 0


def test_a_person_behind_a_mannequin_is_hidden_by_an_object():
    mannequin = build_object("mannequin", np.random.default_rng(2), PALETTE, NARROW, -1.0, 6.0)
    x = 0.5 * (mannequin.footprint[0] + mannequin.footprint[1])
    _, raster, spheres, joints = _render([(x, 11.0)], [mannequin])
    instances = instance_map(raster)
    _, visible = visible_boxes(instances, raster.boxes)
    assert 0 < visible[0] < 0.9 * raster.amodal_pixels[0]  # partly hidden
    keypoints = CAMERA.project(joints)
    states = joint_states(raster, keypoints, joints, spheres[:, HEAD_SPHERE, :3])
    assert (states[0] == JointState.OCCLUDED_BY_OBJECT).any()
    # The person's mask never covers a pixel the mannequin owns.
    assert not np.any((instances > 0) & raster.code_object[raster.code_map])
    # In front of the same mannequin, nothing of the person is hidden.
    _, raster, spheres, joints = _render([(x, 4.5)], [mannequin])
    states = joint_states(raster, CAMERA.project(joints), joints, spheres[:, HEAD_SPHERE, :3])
    assert not (states == JointState.OCCLUDED_BY_OBJECT).any()


def test_streets_full_of_clutter_and_no_people_have_no_labels():
    config = tiny_config(people=(0, 0), frames=2, count=2)
    config = replace(config, sequences=(replace(config.sequences[0], occluders=(40, 40)),))
    for sample in generate(config, seed=3):
        assert len(sample.annotation.persons) == 0
        assert not sample.annotation.instance_map.any()
        assert sample.image.std() > 10.0  # a textured street, not a blank frame


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown object kind"):
        build_object("ufo", np.random.default_rng(0), PALETTE, NARROW, 1.0, 5.0)


def test_a_hull_reaching_the_near_plane_keeps_its_spheres_in_front():
    from crowd_perception.synth.objects import Hull, Occluder, box

    trunk = box(-3.0, -5.0, (0.3, 3.0, 0.3), 0.0, np.array([50.0, 60.0, 70.0]))  # behind the camera
    clump = np.array([[-3.0, 1.5, 0.1, 0.8], [-3.0, 1.5, 6.0, 0.8]])  # one sphere at the camera, one ahead
    crown = Occluder("tree", (trunk,), np.array([-3.15, -2.85, -5.15, -4.85]), (Hull(clump, np.full(3, 90.0)),))
    _, raster, _, _ = _render([], [crown])
    drawn = raster.code_map > 0
    assert drawn.sum() > 100 and np.all(raster.code_object[raster.code_map[drawn]])
