"""Rasteriser: depth order against occluders, code map ownership, the silhouette shortcut."""

from __future__ import annotations

import cv2
import numpy as np

from crowd_perception.core.camera import PinholeCamera
from crowd_perception.synth.body import NUM_SPHERES, Gait, S, body_spheres, part_enabled, pose_joints, sample_shapes
from crowd_perception.synth.raster import (
    _part_polygons,
    _silhouette_pixels,
    draw_shadows,
    from_fixed,
    project_spheres,
    rasterise,
    to_fixed,
)
from crowd_perception.synth.rig import EgoMotion
from crowd_perception.synth.world import Cuboid, Occluder

CAMERA = PinholeCamera.from_fov(320, 180, 70.0)
POSE = EgoMotion(lane_x=-3.0, mount_height=1.5, pitch=0.0, speed=0.0, yaw_rate=0.0, intrinsics=CAMERA).pose(0.0)


def _people(ground: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standing people facing the camera at ground positions ``(x, z)``: camera-frame spheres, enabled parts."""
    n = len(ground)
    shapes = sample_shapes(np.random.default_rng(0), n)
    shapes.skirt[:] = False
    shapes.backpack[:] = False
    shapes.coat[:] = False
    joints = pose_joints(shapes, np.full(n, Gait.STAND), np.zeros(n))
    spheres = body_spheres(joints, shapes)
    # Facing the camera: the body's forward (+z) points to -Z in the world, its right to -X.
    world = spheres[..., :3] * np.array([-1.0, 1.0, -1.0]) + np.stack([ground[:, 0], 0 * ground[:, 0], ground[:, 1]], 1)[:, None]
    return np.concatenate([POSE.to_camera(world), spheres[..., 3:]], axis=-1), part_enabled(shapes)


def _render(ground: np.ndarray, occluders: list[Occluder]):
    spheres, enabled = _people(ground)
    image = np.zeros((CAMERA.height, CAMERA.width, 3), np.uint8)
    colours = np.full((len(ground), enabled.shape[1], 3), 200.0)
    return rasterise(image, POSE, spheres, colours, enabled, ground, occluders), spheres, enabled


def _car(x: float, z: float) -> Occluder:
    body = Cuboid(np.array([x - 0.9, 0.3, z - 2.2]), np.array([x + 0.9, 1.0, z + 2.2]), np.array([0.0, 0.0, 255.0]))
    return Occluder("car", (body,), np.array([x - 0.9, x + 0.9, z - 2.2, z + 2.2]))


def _pixel_owners(raster, spheres: np.ndarray, row: int, names: tuple[str, ...]) -> np.ndarray:
    """Codes at the pixels of some sphere centres (joints) of person ``row``."""
    points = spheres[row, [S[name] for name in names], :3]
    uv = np.floor(CAMERA.project(points)).astype(int)  # pixel i covers [i, i + 1)
    return raster.code_map[uv[:, 1], uv[:, 0]]


LEGS = ("left_knee", "right_knee", "left_ankle", "right_ankle")


def test_person_behind_a_car_is_hidden_and_one_in_front_is_not():
    car = _car(2.3, 12.0)
    # Behind: the car hides the legs. In front, between the lane and the car's side: its centre is
    # farther than the car's centre (12.6 m vs 12 m), so sorting by centre depth would paint the car
    # over it; the separating-line rule must draw the person over the car.
    raster, spheres, _ = _render(np.array([[3.0, 16.5], [1.15, 12.6]]), [car])
    car_code = len(raster.code_row) - 1
    assert raster.code_object[car_code]
    assert np.all(_pixel_owners(raster, spheres, 0, LEGS) == car_code)
    x0, y0, x1, y1 = np.round(raster.boxes[1]).astype(int)
    assert (raster.code_map[y0:y1, x0:x1] == car_code).any()  # the car is right behind the front person
    assert np.all(raster.code_row[_pixel_owners(raster, spheres, 1, LEGS)] == 1)


def test_alone_people_skip_the_silhouette_exactly():
    raster, spheres, enabled = _render(np.array([[-2.0, 8.0], [2.0, 8.0], [2.1, 9.0]]), [])
    assert raster.amodal_pixels[0] == -1  # nothing else near the first person
    assert raster.amodal_pixels[1] == -1  # in front of the third: drawn after it, so nothing covers it
    assert raster.amodal_pixels[2] > 0  # partly behind the second: its silhouette is drawn
    polygons = _part_polygons(project_spheres(spheres, CAMERA))
    silhouette = _silhouette_pixels(polygons[0][enabled[0]])
    visible = int((raster.code_row[raster.code_map] == 0).sum())
    assert silhouette == visible > 0


def test_codes_map_back_to_rows_and_parts():
    raster, _, enabled = _render(np.array([[0.0, 6.0]]), [])
    codes = np.unique(raster.code_map[raster.code_map > 0])
    assert np.all(raster.code_row[codes] == 0)
    assert set(raster.code_part[codes]) <= set(np.flatnonzero(enabled[0]))


def test_silhouette_counts_match_drawing_each_person_alone():
    # A packed group: some people are alone, some counted right after their last part, some redrawn.
    rng = np.random.default_rng(1)
    ground = np.stack([rng.uniform(-1.0, 3.0, 14), rng.uniform(5.0, 12.0, 14)], axis=1)
    raster, spheres, enabled = _render(ground, [_car(2.3, 9.0)])
    polygons = _part_polygons(project_spheres(spheres, CAMERA))
    rows = raster.code_row[raster.code_map]
    for i in range(len(ground)):
        expected = _silhouette_pixels(polygons[i][enabled[i]])
        got = raster.amodal_pixels[i] if raster.amodal_pixels[i] >= 0 else int((rows == i).sum())
        assert got == expected, i
    assert (raster.amodal_pixels == -1).any() and (raster.amodal_pixels > 0).any()


def test_off_axis_spheres_project_to_stretched_ellipses():
    # A sphere 45 deg off the axis of a wide-angle camera: its image is ~1.4x longer radially than across.
    camera = PinholeCamera.from_fov(640, 360, 95.0)
    centre, radius = np.array([5.0, 0.0, 5.0]), 0.3
    rng = np.random.default_rng(0)
    surface = rng.normal(size=(200_000, 3))
    surface = centre + radius * surface / np.linalg.norm(surface, axis=1, keepdims=True)
    true_pixels = camera.project(surface)
    spheres = np.tile(np.append(centre, radius), (1, NUM_SPHERES, 1))  # every part is this one sphere
    polygon = _part_polygons(project_spheres(spheres, camera), min_radius=0.0)[0, 0] / 16.0
    radial = (camera.project(centre) - [camera.cx, camera.cy]) / np.linalg.norm(camera.project(centre) - [camera.cx, camera.cy])
    across = np.array([-radial[1], radial[0]])
    for axis in (radial, across):
        true_extent = np.ptp(true_pixels @ axis)
        drawn_extent = np.ptp(polygon @ axis)
        assert abs(drawn_extent / true_extent - 1.0) < 0.04
    assert np.ptp(true_pixels @ radial) / np.ptp(true_pixels @ across) > 1.35


def test_shadows_fall_away_from_the_sun():
    image = np.full((CAMERA.height, CAMERA.width, 3), 150, np.uint8)
    draw_shadows(image, POSE, np.array([[0.0, 8.0]]), sun=np.array([3.0, 0.0]))  # the shadow points to +X
    dark = image[..., 0] < 150
    assert dark.any() and np.all(image[~dark] == 150)
    feet = CAMERA.project(POSE.to_camera(np.array([0.0, 0.0, 8.0])))
    columns = np.nonzero(dark)[1]
    assert columns.max() - feet[0] > 3 * (feet[0] - columns.min())  # it reaches far to the right only


def test_drawing_follows_the_image_pixel_convention():
    # Pixel i covers image coordinates [i, i + 1): a disc centred at (10.5, 20.5) paints pixels
    # symmetric around index (10, 20), exactly like the keypoints' projection convention.
    disc = np.zeros((1, NUM_SPHERES, 6))
    disc[..., :4] = [10.5, 20.5, 3.0, 3.0]
    disc[..., 4] = 1.0
    polygon = _part_polygons(disc)[0, 0]
    mask = np.zeros((40, 40), np.uint8)
    cv2.fillConvexPoly(mask, polygon, 1, cv2.LINE_8, 4)
    rows, cols = np.nonzero(mask)
    assert abs(cols.mean() - 10.0) < 0.05 and abs(rows.mean() - 20.0) < 0.05
    np.testing.assert_allclose(from_fixed(to_fixed(np.array([10.5, 20.5]))), [10.5, 20.5])
