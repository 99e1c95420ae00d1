"""Our .msg files: Debian's rosidl toolchain translates and parses each one; rosbags registers
them and round-trips every message type through CDR; constants match the core enums."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from crowd_perception.core.skeletons import SKELETONS
from crowd_perception.core.types import JointState, TrackState
from crowd_perception.ros.messages import PACKAGE, message_files, msg_dir, typestore

SYSTEM_PYTHON = "/usr/bin/python3"
EXPECTED = {
    "BoundingBox", "Detection", "DetectionArray", "Homography", "Keypoint2D", "Skeleton", "Pose2D", "Pose2DArray",
    "Pose3D", "Pose3DArray", "Track", "TrackArray",
}
ARRAYS = ("DetectionArray", "Homography", "Pose2DArray", "Pose3DArray", "TrackArray")

# Runs under the system Python that has Debian's python3-rosidl: parses each .idl and prints
# {type: {"members": [[name, idl type class]], "constants": {name: value}}} as JSON.
_PARSE_SCRIPT = textwrap.dedent(
    """
    import json, pathlib, sys
    from rosidl_parser.definition import IdlLocator, Message
    from rosidl_parser.parser import parse_idl_file
    out = {}
    root = pathlib.Path(sys.argv[1])
    for path in sorted(root.rglob("*.idl")):
        idl = parse_idl_file(IdlLocator(root, path.relative_to(root)))
        for message in idl.content.get_elements_of_type(Message):
            struct = message.structure
            out[struct.namespaced_type.name] = {
                "members": [[m.name, type(m.type).__name__] for m in struct.members],
                "constants": {c.name: c.value for c in message.constants},
            }
    print(json.dumps(out))
    """
)


def _rosidl_available() -> str | None:
    """None when the toolchain works, else the reason to skip."""
    if shutil.which("rosidl") is None:
        return "Debian's rosidl-tools is not installed (apt-get install rosidl-tools python3-rosidl)"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import rosidl_parser, rosidl_adapter, em, catkin_pkg"], capture_output=True
    )
    if probe.returncode != 0:
        return "python3-rosidl, python3-empy or python3-catkin-pkg missing for /usr/bin/python3 (see scripts/setup.sh)"
    return None


@pytest.fixture(scope="module")
def rosidl_parsed(tmp_path_factory) -> dict:
    reason = _rosidl_available()
    if reason:
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("idl")
    root = msg_dir().parent
    files = [f"{root}:msg/{path.name}" for path in message_files().values()]
    done = subprocess.run(
        ["rosidl", "translate", "--to", "idl", "-o", str(out), PACKAGE, *files], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    parsed = subprocess.run([SYSTEM_PYTHON, "-c", _PARSE_SCRIPT, str(out)], capture_output=True, text=True)
    assert parsed.returncode == 0, parsed.stderr
    return json.loads(parsed.stdout)


def test_all_expected_messages_exist():
    assert {name.rsplit("/", 1)[1] for name in message_files()} == EXPECTED


def test_rosidl_translates_and_parses_every_message(rosidl_parsed):
    assert set(rosidl_parsed) == EXPECTED
    store = typestore()
    for name, parsed in rosidl_parsed.items():
        # rosidl and rosbags agree on the members and their order
        _, fields = store.fielddefs[f"{PACKAGE}/msg/{name}"]
        assert [m[0] for m in parsed["members"]] == [f[0] for f in fields], name
    assert dict(rosidl_parsed["Track"]["members"])["pose_2d"] == "BoundedSequence"
    assert rosidl_parsed["Keypoint2D"]["constants"] == {s.name: s.value for s in JointState}
    assert rosidl_parsed["Track"]["constants"] == {s.name: s.value for s in TrackState}


def test_every_array_message_starts_with_a_header():
    store = typestore()
    for name in ARRAYS:
        _, fields = store.fielddefs[f"{PACKAGE}/msg/{name}"]
        assert fields[0][0] == "header" and fields[0][1][1] == "std_msgs/msg/Header"


def test_constants_match_core_enums_and_skeletons():
    store = typestore()
    keypoint = store.types[f"{PACKAGE}/msg/Keypoint2D"]
    track = store.types[f"{PACKAGE}/msg/Track"]
    skeleton = store.types[f"{PACKAGE}/msg/Skeleton"]
    assert all(getattr(keypoint, s.name) == s.value for s in JointState)
    assert all(getattr(track, s.name) == s.value for s in TrackState)
    consts, _ = store.fielddefs[f"{PACKAGE}/msg/Skeleton"]
    assert {value for _, _, value in consts} == set(SKELETONS)
    assert skeleton.BODY22 == "body22"


def test_every_field_is_documented():
    """Each field line is preceded or followed by a comment (units, frames, conventions)."""
    for name, path in message_files().items():
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            documented = "#" in line or (i > 0 and lines[i - 1].lstrip().startswith("#"))
            documented = documented or (i > 1 and lines[i - 1].strip() and lines[i - 2].lstrip().startswith("#"))
            assert documented, f"{name}: undocumented field {line!r}"


# ------------------------------------------------------------------------------ CDR round trip

_BASE_VALUES = {
    "bool": lambda rng: bool(rng.integers(2)),
    "string": lambda rng: f"s{rng.integers(1000)}",
    "float32": lambda rng: float(np.float32(rng.normal())),
    "float64": lambda rng: float(rng.normal()),
    "uint8": lambda rng: int(rng.integers(0, 255)),
    "int32": lambda rng: int(rng.integers(-1000, 1000)),
    "uint32": lambda rng: int(rng.integers(0, 100000)),
    "uint64": lambda rng: int(rng.integers(0, 2**62)),
}
_DTYPES = {"float32": np.float32, "float64": np.float64, "uint8": np.uint8, "int32": np.int32, "uint32": np.uint32}


def _example(store, typename: str, rng: np.random.Generator):
    """An instance of ``typename`` with every field set (sequences of 2, bounded ones of 1)."""
    _, fields = store.fielddefs[typename]
    values = {}
    for name, (kind, spec) in fields:
        values[name] = _value(store, kind.name, spec, rng)
    return store.types[typename](**values)


def _value(store, kind: str, spec, rng):
    if kind == "BASE":
        return _BASE_VALUES[spec[0]](rng)
    if kind == "NAME":
        return _example(store, spec, rng)
    (inner_kind, inner_spec), bound = spec
    n = bound if kind == "ARRAY" else (1 if bound else 2)
    if inner_kind.name == "BASE" and inner_spec[0] in _DTYPES:
        return np.array([_BASE_VALUES[inner_spec[0]](rng) for _ in range(n)], dtype=_DTYPES[inner_spec[0]])
    return [_value(store, inner_kind.name, inner_spec, rng) for _ in range(n)]


def _assert_same(a, b, where: str = "msg"):
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dataclass_fields__"):
        assert type(a).__msgtype__ == type(b).__msgtype__, where
        for name in a.__dataclass_fields__:
            if not name.isupper() and name != "__msgtype__":
                _assert_same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    else:
        assert a == b, where


@pytest.mark.parametrize("distro", ["humble", "jazzy"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cdr_round_trip_of_every_message_type(name, distro):
    store = typestore(distro)
    typename = f"{PACKAGE}/msg/{name}"
    message = _example(store, typename, np.random.default_rng(len(name)))
    raw = store.serialize_cdr(message, typename)
    back = store.deserialize_cdr(raw, typename)
    _assert_same(message, back)
    assert bytes(store.serialize_cdr(back, typename)) == bytes(raw)


def test_message_definitions_for_bags_name_our_dependencies():
    store = typestore()
    text, _ = store.generate_msgdef(f"{PACKAGE}/msg/TrackArray", ros_version=2)
    for dep in ("MSG: std_msgs/Header", "MSG: crowd_perception/Track", "MSG: crowd_perception/Pose3D",
                "MSG: geometry_msgs/Point"):
        assert dep in text
    assert store.hash_rihs01(f"{PACKAGE}/msg/TrackArray").startswith("RIHS01_")


def test_unknown_distro_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown ROS 2 distro"):
        typestore("rolling-ridley")


def test_msg_dir_is_found_in_the_checkout():
    assert msg_dir() == Path(__file__).resolve().parents[2] / "msg"
