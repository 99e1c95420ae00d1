"""Articulated pedestrian model: BODY22 skeleton, gaits, and volumetric parts made of spheres.

Proportions follow Winter's anthropometric segment lengths (fractions of the stature ``H``),
scaled per identity (height, leg ratio, shoulder width, girth). A gait is a phase-driven
sagittal-plane kinematic model: hip flexion ``A_h sin(phi)``, knee flexion during swing, arm swing
in anti-phase with the leg of the same side, elbow flexion; running adds amplitude, lean and bent
elbows; standing is a slow sway. Everything is vectorised over people.

Body frame (labelled like the world frame, see :mod:`.rig`): ``x`` to the person's right, ``y`` up,
``z`` forward (the heading), metres, origin on the ground under the pelvis. Each volumetric part is the convex hull of a few spheres
(capsules for limbs, a multi-sphere torso), so its projection is the convex hull of circles.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from ..core.skeletons import BODY22

__all__ = [
    "Gait",
    "PATTERNS",
    "BodyShapes",
    "sample_shapes",
    "pose_joints",
    "body_spheres",
    "PARTS",
    "PART_SPHERES",
    "PART_COLOUR_ROLE",
    "OPTIONAL_PARTS",
    "part_enabled",
    "JOINT_PARTS",
    "FACE_JOINTS",
    "NUM_SPHERES",
    "HEAD_SPHERE",
]

J = {name: i for i, name in enumerate(BODY22.joints)}


PATTERNS = ("plain", "stripes", "checks")
"""Garment patterns of a top (index stored in ``BodyShapes.pattern``, painted by :mod:`.garments`)."""


class Gait(IntEnum):
    STAND = 0
    WALK = 1
    RUN = 2


@dataclass
class BodyShapes:
    """Per-identity body dimensions (arrays of length N), fixed for the life of an identity."""

    height: np.ndarray
    leg_ratio: np.ndarray
    shoulder: np.ndarray
    girth: np.ndarray
    head: np.ndarray
    long_sleeves: np.ndarray
    skirt: np.ndarray
    backpack: np.ndarray
    coat: np.ndarray
    hat: np.ndarray
    handbag: np.ndarray
    pattern: np.ndarray

    def __len__(self) -> int:
        return len(self.height)

    def take(self, index: np.ndarray) -> BodyShapes:
        return BodyShapes(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[BodyShapes]) -> BodyShapes:
        fields = BodyShapes.__dataclass_fields__
        return BodyShapes(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def sample_shapes(rng: np.random.Generator, n: int) -> BodyShapes:
    """Adults 1.50-1.95 m and about 8 % children 1.05-1.45 m, with varied build."""
    child = rng.random(n) < 0.08
    height = np.where(child, rng.uniform(1.05, 1.45, n), np.clip(rng.normal(1.72, 0.09, n), 1.5, 1.95))
    return BodyShapes(
        height=height,
        leg_ratio=rng.uniform(0.95, 1.05, n),
        shoulder=rng.uniform(0.9, 1.1, n) * np.where(child, 0.9, 1.0),
        girth=rng.uniform(0.85, 1.25, n),
        head=rng.uniform(0.95, 1.05, n) * np.where(child, 1.15, 1.0),
        long_sleeves=rng.random(n) < 0.6,
        skirt=rng.random(n) < 0.15,
        backpack=rng.random(n) < 0.2,
        coat=rng.random(n) < 0.15,
        hat=rng.random(n) < 0.18,
        handbag=rng.random(n) < 0.15,
        pattern=rng.choice(len(PATTERNS), size=n, p=[0.6, 0.25, 0.15]),
    )


def _sagittal(angle: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Segment hanging down, rotated forward by ``angle`` (rad) about the x axis: ``(N, 3)`` offset."""
    return np.stack([np.zeros_like(angle), -np.cos(angle) * length, np.sin(angle) * length], axis=-1)


def pose_joints(shapes: BodyShapes, gait: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """``(N, 22, 3)`` BODY22 joints in the body frame for gait modes and cycle phases (rad)."""
    n = len(shapes)
    h = shapes.height
    walk, run, stand = gait == Gait.WALK, gait == Gait.RUN, gait == Gait.STAND
    # Gait amplitudes (rad) per mode.
    hip_amp = np.select([walk, run], [0.3, 0.7], 0.0)
    knee_amp = np.select([walk, run], [0.95, 1.7], 0.0)
    arm_amp = np.select([walk, run], [0.35, 0.7], 0.0)
    elbow_base = np.select([walk, run], [0.3, 1.45], 0.12)
    lean = np.select([walk, run], [0.04, 0.18], 0.0)
    sway = np.where(stand, 0.03 * np.sin(phase), 0.0)

    thigh = 0.245 * h * shapes.leg_ratio
    shank = 0.246 * h * shapes.leg_ratio
    ankle_h = 0.039 * h
    upper_arm, fore_arm = 0.186 * h, 0.146 * h
    hip_w = 0.055 * h * shapes.girth**0.5
    sho_w = 0.105 * h * shapes.shoulder

    joints = np.zeros((n, 22, 3))
    legs = {}
    for side, offset in (("left", 0.0), ("right", np.pi)):
        ph = phase + offset
        hip_angle = hip_amp * np.sin(ph) + np.where(stand, sway, 0.06)
        knee_flex = knee_amp * np.clip(np.cos(ph), 0.0, None) ** 1.5 + 0.05 + np.where(run, 0.25, 0.0)
        knee_off = _sagittal(hip_angle, thigh)
        ankle_off = knee_off + _sagittal(hip_angle - knee_flex, shank)
        legs[side] = (knee_off, ankle_off)
    # Pelvis height: the lower foot touches the ground (running adds a small flight bounce).
    drop = np.maximum(-legs["left"][1][:, 1], -legs["right"][1][:, 1])
    bounce = np.where(run, 0.04 * h * np.abs(np.sin(phase)), 0.0)
    pelvis = np.stack([np.zeros(n), drop + ankle_h + bounce, np.zeros(n)], axis=-1)

    up = np.stack([np.zeros(n), np.cos(lean), np.sin(lean)], axis=-1)  # trunk axis, leaning forward
    joints[:, J["pelvis"]] = pelvis
    for side, sign in (("left", -1.0), ("right", 1.0)):
        hip = pelvis + np.stack([sign * hip_w, np.zeros(n), np.zeros(n)], axis=-1)
        joints[:, J[f"{side}_hip"]] = hip
        joints[:, J[f"{side}_knee"]] = hip + legs[side][0]
        joints[:, J[f"{side}_ankle"]] = hip + legs[side][1]

    def trunk(fraction: float) -> np.ndarray:
        """Point on the (leaning) trunk axis at ``fraction`` of the stature above the ground."""
        return pelvis + up * ((fraction - 0.53) * h)[:, None]

    joints[:, J["spine"]] = trunk(0.63)
    joints[:, J["chest"]] = trunk(0.73)
    joints[:, J["neck"]] = trunk(0.845)
    head_centre = trunk(0.925) + np.stack([np.zeros(n), np.zeros(n), 0.01 * h], axis=-1)
    head_r = 0.055 * h * shapes.head
    joints[:, J["head_top"]] = head_centre + up * (0.85 * head_r)[:, None]
    _face_points(joints, head_centre, head_r)

    shoulder_c = trunk(0.815)
    for side, sign, offset in (("left", -1.0, np.pi), ("right", 1.0, 0.0)):
        ph = phase + offset  # the arm swings with the opposite leg
        swing = arm_amp * np.sin(ph) - np.where(run, 0.15, 0.0)
        elbow_flex = elbow_base + np.where(walk, 0.25 * np.clip(np.sin(ph), 0.0, None), 0.0)
        shoulder = shoulder_c + np.stack([sign * sho_w, np.zeros(n), np.zeros(n)], axis=-1)
        outward = np.stack([sign * 0.015 * h, np.zeros(n), np.zeros(n)], axis=-1)  # arms hang clear of the hips
        elbow = shoulder + _sagittal(swing, upper_arm) + outward
        wrist = elbow + _sagittal(swing + elbow_flex, fore_arm) + 0.5 * outward
        joints[:, J[f"{side}_shoulder"]] = shoulder
        joints[:, J[f"{side}_elbow"]] = elbow
        joints[:, J[f"{side}_wrist"]] = wrist
    return joints


def _face_points(joints: np.ndarray, centre: np.ndarray, radius: np.ndarray) -> None:
    """Nose, eyes and ears on a sphere of ``0.75 * radius`` around the head centre.

    They sit slightly inside the head surface so that their pixels stay inside the painted head
    disk even for distant people; whether they face the camera decides visibility.
    """
    directions = {
        "nose": (0.0, -0.15, 1.0),
        "left_eye": (-0.35, 0.15, 0.93),
        "right_eye": (0.35, 0.15, 0.93),
        "left_ear": (-1.0, 0.0, 0.0),
        "right_ear": (1.0, 0.0, 0.0),
    }
    for name, d in directions.items():
        d = np.asarray(d) / np.linalg.norm(d)
        joints[:, J[name]] = centre + d * (0.75 * radius)[:, None]


# --- volumetric parts -------------------------------------------------------------------------

# Spheres: index -> (anchor joint or construction) are built in ``body_spheres``.
_SPHERE_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine", "chest", "left_shoulder", "right_shoulder",
    "neck", "head", "hair",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_toe", "right_toe",
    "skirt_left", "skirt_right", "pack_top", "pack_bottom", "coat_left", "coat_right",
    "hat", "bag_top", "bag_bottom",
)
S = {name: i for i, name in enumerate(_SPHERE_NAMES)}
NUM_SPHERES = len(_SPHERE_NAMES)
HEAD_SPHERE = S["head"]

# Parts: name -> spheres whose convex hull is the part, and the colour role it is painted with.
_PART_DEFS = (
    ("hips", ("pelvis", "left_hip", "right_hip"), "bottom"),
    ("torso", ("spine", "chest", "left_shoulder", "right_shoulder"), "top"),
    ("neck", ("neck", "head"), "skin"),
    ("hair", ("hair",), "hair"),
    ("head", ("head",), "skin"),
    ("left_upper_arm", ("left_shoulder", "left_elbow"), "top"),
    ("right_upper_arm", ("right_shoulder", "right_elbow"), "top"),
    ("left_forearm", ("left_elbow", "left_wrist"), "sleeve"),
    ("right_forearm", ("right_elbow", "right_wrist"), "sleeve"),
    ("left_hand", ("left_hand",), "skin"),
    ("right_hand", ("right_hand",), "skin"),
    ("left_thigh", ("left_hip", "left_knee"), "bottom"),
    ("right_thigh", ("right_hip", "right_knee"), "bottom"),
    ("left_shank", ("left_knee", "left_ankle"), "bottom"),
    ("right_shank", ("right_knee", "right_ankle"), "bottom"),
    ("left_foot", ("left_ankle", "left_toe"), "shoe"),
    ("right_foot", ("right_ankle", "right_toe"), "shoe"),
    ("skirt", ("pelvis", "left_hip", "right_hip", "skirt_left", "skirt_right"), "bottom"),
    ("backpack", ("pack_top", "pack_bottom"), "bag"),
    ("coat", ("left_shoulder", "right_shoulder", "chest", "coat_left", "coat_right"), "top"),
    ("hat", ("hat",), "bag"),
    ("handbag", ("bag_top", "bag_bottom"), "bag"),
)
OPTIONAL_PARTS = {"skirt": "skirt", "backpack": "backpack", "coat": "coat", "hat": "hat", "handbag": "handbag"}
"""Parts only some identities have: part name -> the ``BodyShapes`` flag that enables it."""
PARTS: tuple[str, ...] = tuple(p[0] for p in _PART_DEFS)
P = {name: i for i, name in enumerate(PARTS)}
PART_SPHERES: tuple[tuple[int, ...], ...] = tuple(tuple(S[s] for s in p[1]) for p in _PART_DEFS)
PART_COLOUR_ROLE: tuple[str, ...] = tuple(p[2] for p in _PART_DEFS)

# For every BODY22 joint, the parts that contain it: a joint is visible where one of them is seen.
_JOINT_PART_NAMES = {
    "pelvis": ("hips", "torso", "skirt", "coat"),
    "spine": ("torso", "hips", "coat"),
    "chest": ("torso", "coat"),
    "neck": ("torso", "neck", "head", "hair"),
    "head_top": ("head", "hair", "hat"),
    "nose": ("head", "hair", "hat"),
    "left_eye": ("head", "hair", "hat"),
    "right_eye": ("head", "hair", "hat"),
    "left_ear": ("head", "hair", "hat"),
    "right_ear": ("head", "hair", "hat"),
    "left_shoulder": ("torso", "left_upper_arm", "coat"),
    "right_shoulder": ("torso", "right_upper_arm", "coat"),
    "left_elbow": ("left_upper_arm", "left_forearm"),
    "right_elbow": ("right_upper_arm", "right_forearm"),
    "left_wrist": ("left_forearm", "left_hand"),
    "right_wrist": ("right_forearm", "right_hand"),
    "left_hip": ("hips", "left_thigh", "torso", "skirt", "coat"),
    "right_hip": ("hips", "right_thigh", "torso", "skirt", "coat"),
    "left_knee": ("left_thigh", "left_shank"),
    "right_knee": ("right_thigh", "right_shank"),
    "left_ankle": ("left_shank", "left_foot"),
    "right_ankle": ("right_shank", "right_foot"),
}
JOINT_PARTS = np.zeros((BODY22.num_joints, len(PARTS)), dtype=bool)
"""``(22, num_parts)`` whether part ``p`` contains joint ``j``."""
for _joint, _parts in _JOINT_PART_NAMES.items():
    JOINT_PARTS[J[_joint], [P[p] for p in _parts]] = True
JOINT_PARTS.setflags(write=False)

FACE_JOINTS = np.array([J[n] for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")])
"""Surface landmarks of the head: hidden by the head itself when they face away from the camera."""


def body_spheres(joints: np.ndarray, shapes: BodyShapes) -> np.ndarray:
    """``(N, NUM_SPHERES, 4)`` sphere centres (same frame as ``joints``) and radii in metres."""
    n = len(shapes)
    scale = (shapes.height / 1.75)[:, None]
    g = shapes.girth[:, None]
    c = np.zeros((n, NUM_SPHERES, 3))
    r = np.zeros((n, NUM_SPHERES))
    same = ("pelvis", "left_hip", "right_hip", "spine", "chest", "left_shoulder", "right_shoulder", "neck",
            "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_knee", "right_knee",
            "left_ankle", "right_ankle")
    for name in same:
        c[:, S[name]] = joints[:, J[name]]
    radius = {
        "pelvis": 0.13, "left_hip": 0.1, "right_hip": 0.1, "spine": 0.13, "chest": 0.14,
        "left_shoulder": 0.075, "right_shoulder": 0.075, "neck": 0.05,
        "left_elbow": 0.045, "right_elbow": 0.045, "left_wrist": 0.033, "right_wrist": 0.033,
        "left_hand": 0.045, "right_hand": 0.045,
        "left_knee": 0.06, "right_knee": 0.06, "left_ankle": 0.045, "right_ankle": 0.045,
        "left_toe": 0.04, "right_toe": 0.04,
    }
    for name, value in radius.items():
        r[:, S[name]] = value * scale[:, 0] * (g[:, 0] if name not in ("neck",) else 1.0)
    # Head: sphere around the ears' midpoint (the head centre); hair: slightly up and back.
    centre = 0.5 * (joints[:, J["left_ear"]] + joints[:, J["right_ear"]])
    forward = joints[:, J["nose"]] - centre
    forward /= np.linalg.norm(forward, axis=-1, keepdims=True)
    up = joints[:, J["head_top"]] - centre
    head_r = np.linalg.norm(up, axis=-1) / 0.85
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    c[:, S["head"]], r[:, S["head"]] = centre, head_r
    c[:, S["hair"]] = centre + up * (0.12 * head_r)[:, None] - forward * (0.18 * head_r)[:, None]
    r[:, S["hair"]] = head_r * 1.02
    for side in ("left", "right"):
        wrist, elbow = joints[:, J[f"{side}_wrist"]], joints[:, J[f"{side}_elbow"]]
        along = wrist - elbow
        along /= np.linalg.norm(along, axis=-1, keepdims=True) + 1e-9
        c[:, S[f"{side}_hand"]] = wrist + along * (0.06 * scale)
        ankle, knee = joints[:, J[f"{side}_ankle"]], joints[:, J[f"{side}_knee"]]
        shin = ankle - knee
        shin /= np.linalg.norm(shin, axis=-1, keepdims=True) + 1e-9
        # Foot points forward, perpendicular to the shin in the sagittal plane, resting near the ground.
        foot_dir = np.stack([np.zeros(n), shin[:, 2], -shin[:, 1]], axis=-1)
        c[:, S[f"{side}_toe"]] = ankle + foot_dir * (0.15 * scale) + np.array([0.0, -0.02, 0.0]) * scale
    # Skirt: flares from the hips to above the knees, fixed to the pelvis (the legs swing under it).
    pelvis = joints[:, J["pelvis"]]
    h = shapes.height[:, None]
    for side, sign in (("left", -1.0), ("right", 1.0)):
        c[:, S[f"skirt_{side}"]] = pelvis + np.concatenate([sign * 0.085 * h, -0.17 * h, 0.0 * h], axis=1)
        r[:, S[f"skirt_{side}"]] = 0.07 * scale[:, 0] * g[:, 0]
    # Coat: hangs from the shoulders to mid-thigh, fixed to the pelvis like the skirt.
    for side, sign in (("left", -1.0), ("right", 1.0)):
        c[:, S[f"coat_{side}"]] = pelvis + np.concatenate([sign * 0.085 * h, -0.2 * h, 0.0 * h], axis=1)
        r[:, S[f"coat_{side}"]] = 0.09 * scale[:, 0] * g[:, 0]
    # Backpack: on the back between the shoulder blades and the waist.
    chest, spine = joints[:, J["chest"]], joints[:, J["spine"]]
    back = np.array([0.0, 0.0, -1.0]) * (0.17 * scale * g)
    c[:, S["pack_top"]], c[:, S["pack_bottom"]] = chest + back, spine + back
    r[:, S["pack_top"]] = r[:, S["pack_bottom"]] = 0.12 * scale[:, 0]
    # Hat: a cap over the top of the head. Handbag: hangs from the right hand.
    c[:, S["hat"]], r[:, S["hat"]] = centre + up * (0.4 * head_r)[:, None], head_r * 0.92
    hand = c[:, S["right_hand"]]
    drop = np.array([0.0, -1.0, 0.0]) * scale
    c[:, S["bag_top"]], c[:, S["bag_bottom"]] = hand + 0.1 * drop, hand + 0.24 * drop
    r[:, S["bag_top"]] = r[:, S["bag_bottom"]] = 0.08 * scale[:, 0]
    return np.concatenate([c, r[..., None]], axis=-1)


def part_enabled(shapes: BodyShapes) -> np.ndarray:
    """``(N, num_parts)`` whether each person has each part (optional parts per identity)."""
    enabled = np.ones((len(shapes), len(PARTS)), bool)
    for part, flag in OPTIONAL_PARTS.items():
        enabled[:, P[part]] = getattr(shapes, flag)
    return enabled
