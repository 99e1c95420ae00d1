"""``generate``: the frame loop that turns a :class:`SynthConfig` and a seed into labelled samples.

Each sequence has its own random generator seeded from ``(seed, crc32(config name), sequence
index)``, so sequences are independent, any one of them can be regenerated alone, and two splits
(``train_a`` / ``val_a``) never share scenes for the same seed.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..core.annotations import FrameAnnotation, PersonAnnotations
from ..core.camera import PinholeCamera
from ..core.skeletons import BODY22
from .body import HEAD_SPHERE, PART_COLOUR_ROLE, PARTS, body_spheres, part_enabled, pose_joints
from .config import SequenceConfig, SynthConfig
from .crowd import Crowd
from .effects import sample_effects
from .garments import paint_patterns
from .labels import instance_map, joint_states, visible_boxes
from .object_faces import ObjectBatch
from .palette import get_palette
from .raster import draw_shadows, project_spheres, rasterise
from .rig import CameraPose, EgoMotion
from .world import NEAR, Street, StreetLayout, build_street

__all__ = ["Sample", "generate", "sequence_names"]

SKELETON = "body22"
_EPOCH_NS = 1_700_000_000 * 10**9
_MIN_ROOT_DEPTH = 1.0  # metres; closer people would fill the frame and cross the near plane
_ROLE_INDEX = {"top": 0, "bottom": 1, "shoe": 2, "skin": 3, "hair": 4, "bag": 5, "sleeve": 0}
_ROLES = np.array([_ROLE_INDEX[r] for r in PART_COLOUR_ROLE])  # part -> index into Crowd.colours
_SLEEVES = np.array([r == "sleeve" for r in PART_COLOUR_ROLE])  # forearms: top colour, or skin if short
# Light from above: the lower a part, the less sky it sees (ambient occlusion, a body's own shade).
_PART_SHADE = np.array([{"hips": 0.92, "neck": 0.9, "left_forearm": 0.93, "right_forearm": 0.93, "left_hand": 0.92,
                         "right_hand": 0.92, "left_thigh": 0.88, "right_thigh": 0.88, "left_shank": 0.8,
                         "right_shank": 0.8, "left_foot": 0.75, "right_foot": 0.75, "skirt": 0.9,
                         "handbag": 0.9}.get(part, 1.0) for part in PARTS])


@dataclass
class Sample:
    """One rendered frame: BGR uint8 image and its complete ground truth."""

    image: np.ndarray
    annotation: FrameAnnotation


def _groups(config: SynthConfig) -> list[tuple[SequenceConfig, int]]:
    return [(group, i) for group in config.sequences for i in range(group.count)]


def sequence_names(config: SynthConfig) -> list[str]:
    """Names of all sequences of ``config`` in generation order (``{config}_{group}_{index}``)."""
    return [f"{config.name}_{group.name}_{i:03d}" for group, i in _groups(config)]


def generate(config: SynthConfig | str, seed: int = 0, sequences: Iterable[int] | None = None) -> Iterator[Sample]:
    """Yield every frame of every sequence (or only of the ``sequences`` indices) in order.

    ``config`` is a :class:`SynthConfig` or a preset name (see :func:`get_preset`).
    """
    if isinstance(config, str):
        from .presets import get_preset

        config = get_preset(config)
    if not isinstance(config, SynthConfig):
        raise TypeError(f"expected a preset name or a SynthConfig, got {type(config).__name__}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    config.validate()
    groups = _groups(config)
    names = sequence_names(config)
    indices = range(len(groups)) if sequences is None else list(sequences)
    for index in indices:
        if not 0 <= index < len(groups):
            raise ValueError(f"sequence index {index} out of range 0..{len(groups) - 1} for {config.name!r}")
        group, _ = groups[index]
        yield from _sequence(config, group, names[index], index, seed)


def _sequence(config: SynthConfig, spec: SequenceConfig, name: str, index: int, seed: int) -> Iterator[Sample]:
    salt = zlib.crc32(config.name.encode("utf-8"))
    rng = np.random.default_rng([int(seed), salt, index])
    domain, cam = config.domain, config.domain.camera
    palette = get_palette(domain.palette)
    intrinsics = PinholeCamera.from_fov(cam.width, cam.height, rng.uniform(*cam.hfov_deg))
    road_half = rng.uniform(3.5, 7.0)
    lane_x = rng.uniform(-0.6, 0.6) * road_half
    ego = EgoMotion(
        lane_x=lane_x,
        mount_height=rng.uniform(*cam.mount_height_m),
        pitch=np.radians(rng.uniform(*cam.pitch_deg)),
        speed=rng.uniform(*spec.ego_speed_mps),
        yaw_rate=np.radians(rng.uniform(*spec.yaw_rate_dps)),
        intrinsics=intrinsics,
        shake=np.radians(rng.uniform(0.0, 0.3)) * min(1.0, spec.ego_speed_mps[1] / 5.0),
    )
    duration = spec.frames / config.fps
    layout = StreetLayout(
        road_half=road_half,
        pavement=rng.uniform(2.5, 6.0),
        z_start=-30.0,
        z_end=ego.speed * duration + spec.max_distance_m + 150.0,
        crossing_z=rng.uniform(6.0, 30.0),
    )
    pose = ego.pose(0.0)
    azimuth = rng.uniform(-np.pi, np.pi)
    sun = rng.uniform(*domain.shadow_length) * np.array([np.sin(azimuth), np.cos(azimuth)])  # per metre of height
    street = build_street(rng, palette, layout, pose, int(rng.integers(spec.occluders[0], spec.occluders[1] + 1)),
                          lane_x, sun)
    obstacles = np.array([o.footprint for o in street.occluders]).reshape(-1, 4)
    crowd = Crowd(rng, palette, layout, spec, camera_z=pose.centre[2], obstacles=obstacles)
    effects = sample_effects(rng, domain, cam.width, cam.height)
    objects = ObjectBatch(street.occluders)  # stacked once: they never move
    sun = 1.7 * sun  # the shadow of a 1.7 m person's head
    for frame in range(spec.frames):
        t = frame / config.fps
        pose = ego.pose(t)
        if frame:
            crowd.step(1.0 / config.fps, pose.centre[2])
        image = street.render_background(pose)
        persons, instances = _render_people(image, pose, crowd, street, objects, sun)
        annotation = FrameAnnotation(
            image_id=f"{name}/{frame:06d}",
            width=cam.width,
            height=cam.height,
            persons=persons,
            instance_map=instances,
            camera=intrinsics,
            stamp_ns=_EPOCH_NS + index * 3600 * 10**9 + round(t * 1e9),
            sequence=name,
            frame_index=frame,
            domain=domain.name,
        )
        yield Sample(effects.apply(image, rng), annotation)


def _part_colours(crowd: Crowd, keep: np.ndarray, light: np.ndarray) -> np.ndarray:
    """``(N, parts, 3)`` BGR of every body part from each identity's clothing, skin and hair colours,
    lit from above (lower parts darker) and by ``light`` (N,), the sunlight where each one stands."""
    identity = crowd.colours[keep]
    colours = identity[:, _ROLES]
    sleeves = np.where(crowd.shapes.long_sleeves[keep][:, None], identity[:, 0], identity[:, 3])
    colours[:, _SLEEVES] = sleeves[:, None]
    return colours * (_PART_SHADE[None, :] * light[:, None])[..., None]


def _render_people(image: np.ndarray, pose: CameraPose, crowd: Crowd, street: Street, objects: ObjectBatch,
                   sun: np.ndarray) -> tuple[PersonAnnotations, np.ndarray]:
    """Pose, place, cull and draw everybody onto ``image`` together with the street's ``objects``;
    returns their ground truth and instance map.

    ``sun`` is the ground displacement (x, z) of a 1.7 m person's head shadow."""
    joints = pose_joints(crowd.shapes, crowd.gait, crowd.phase)
    spheres = body_spheres(joints, crowd.shapes)
    rotation, origin = crowd.world_transform()
    joints_cam = pose.to_camera(np.einsum("nij,nkj->nki", rotation, joints) + origin[:, None])
    centres_cam = pose.to_camera(np.einsum("nij,nkj->nki", rotation, spheres[..., :3]) + origin[:, None])
    spheres_cam = np.concatenate([centres_cam, spheres[..., 3:]], axis=-1)
    keep = _in_view(spheres_cam, joints_cam, pose.intrinsics)
    spheres_cam, joints_cam = spheres_cam[keep], joints_cam[keep]
    draw_shadows(image, pose, crowd.position[keep], sun)
    colours = _part_colours(crowd, keep, street.light_at(crowd.position[keep]))
    raster = rasterise(image, pose, spheres_cam, colours, part_enabled(crowd.shapes.take(keep)),
                       crowd.position[keep], objects)
    paint_patterns(image, raster, crowd.shapes.pattern[keep])
    instances = instance_map(raster)
    vis_boxes, vis_pixels = visible_boxes(instances, raster.boxes)
    keypoints = pose.intrinsics.project(joints_cam)
    persons = PersonAnnotations(
        SKELETON,
        raster.boxes,
        visible_boxes=vis_boxes,
        ids=crowd.ids[keep],
        keypoints=keypoints,
        keypoint_states=joint_states(raster, keypoints, joints_cam, spheres_cam[:, HEAD_SPHERE, :3]),
        joints_3d=joints_cam,
        distances=np.linalg.norm(joints_cam[:, BODY22.root], axis=-1),
        visible_fractions=np.where(raster.amodal_pixels < 0, vis_pixels > 0, vis_pixels / np.maximum(raster.amodal_pixels, 1)),
    )
    return persons, instances


def _in_view(spheres_cam: np.ndarray, joints_cam: np.ndarray, k: PinholeCamera) -> np.ndarray:
    """People fully in front of the near plane whose projected body overlaps the image."""
    keep = np.zeros(len(spheres_cam), bool)
    if not len(spheres_cam):
        return keep
    front = ((spheres_cam[..., 2] - spheres_cam[..., 3]).min(axis=1) > 2 * NEAR) & (
        joints_cam[:, 0, 2] > _MIN_ROOT_DEPTH)
    ellipses = project_spheres(spheres_cam[front], k)
    u, v, r = ellipses[..., 0], ellipses[..., 1], ellipses[..., 3]  # r: the larger (radial) radius
    keep[front] = ((u + r).max(1) > 0) & ((u - r).min(1) < k.width) & ((v + r).max(1) > 0) & (
        (v - r).min(1) < k.height)
    return keep
