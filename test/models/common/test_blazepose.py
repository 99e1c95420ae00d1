"""The BlazePose trunk converted from the mediapipe wheel: provenance, and heatmaps that find real people's joints."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.cli import main  # noqa: E402
from crowd_perception.core.errors import InputError  # noqa: E402
from crowd_perception.models.common.blazepose import (  # noqa: E402
    BLAZEPOSE_FILE,
    BLAZEPOSE_SOURCE,
    BLAZEPOSE_TO_COCO17,
    BlazePoseTrunk,
    convert_blazepose,
)
from crowd_perception.models.common.pretrained import PRETRAINED_DIR, provenance  # noqa: E402

SHIPPED = PRETRAINED_DIR / BLAZEPOSE_FILE


def test_shipped_file_records_its_source_and_licence() -> None:
    meta = provenance(SHIPPED)
    assert meta["package"] == "mediapipe" and meta["version"] == BLAZEPOSE_SOURCE.version
    assert meta["member"].endswith("pose_landmark_full.tflite") and meta["licence"].startswith("Apache-2.0")
    assert len(meta["source_sha256"]) == 64
    assert len(json.loads(meta["graph"])) > 50


def test_trunk_is_fixed_and_keeps_stride_four() -> None:
    trunk = BlazePoseTrunk()
    assert not any(p.requires_grad for p in trunk.parameters())
    out = trunk(torch.rand(2, 3, 256, 192))
    assert out.shape == (2, BlazePoseTrunk.out_channels, 64, 48) and torch.isfinite(out).all()


def _coco_people(fixtures: Path) -> list[tuple[np.ndarray, list[float], np.ndarray]]:
    root = fixtures / "coco_keypoints" / "coco"
    data = json.loads((root / "test_coco.json").read_text())
    files = {im["id"]: im["file_name"] for im in data["images"]}
    people = []
    for ann in data["annotations"]:
        keypoints = np.asarray(ann["keypoints"], float).reshape(-1, 3)
        if ann["bbox"][3] >= 64 and (keypoints[:, 2] == 2).sum() >= 8:
            people.append((cv2.imread(str(root / files[ann["image_id"]])), ann["bbox"], keypoints))
    return people


def test_heatmaps_find_the_joints_of_real_people(fixtures_dir: Path) -> None:
    """Decoded as they come (argmax of the 17 COCO channels), the trunk's heatmaps put most visible joints
    of real COCO people within 0.1 box lengths: the conversion (layouts, padding, BGR) is exact enough."""
    trunk = BlazePoseTrunk().eval()
    height, width = 256, 192
    hits = total = 0
    spreads = []
    for image, (x, y, w, h), keypoints in _coco_people(fixtures_dir):
        scale = 1.25 * max(w * height / width, h) / height  # image pixels per crop pixel
        cx, cy = x + w / 2, y + h / 2
        warp = np.array([[1 / scale, 0, width / 2 - cx / scale], [0, 1 / scale, height / 2 - cy / scale]])
        crop = cv2.warpAffine(image, warp, (width, height)).astype(np.float32) / 255.0
        with torch.no_grad():
            out = trunk(torch.from_numpy(crop).permute(2, 0, 1)[None])[0].numpy()
        heatmaps = out[BlazePoseTrunk.heatmap_channels(BLAZEPOSE_TO_COCO17)].reshape(17, -1)
        row, col = np.divmod(heatmaps.argmax(1), width // 4)
        joints = (np.stack([col, row], 1) * 4 + 1.5 - [width / 2, height / 2]) * scale + [cx, cy]
        visible = keypoints[:, 2] == 2
        error = np.linalg.norm(joints - keypoints[:, :2], axis=1)[visible]
        hits, total = hits + int((error < 0.1 * max(w, h)).sum()), total + int(visible.sum())
        spreads.append(joints[visible, 0].std() / keypoints[visible, 0].std())
    assert total >= 60
    assert hits / total > 0.6, f"PCK@0.1 of visible joints {hits / total:.2f}"
    assert 0.67 < float(np.median(spreads)) < 1.5  # joints spread like the person, not collapsed


def test_not_a_tflite_file_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "pose.tflite"
    bogus.write_bytes(b"\x00" * 64)
    with pytest.raises(InputError, match="not a TensorFlow Lite model"):
        convert_blazepose(bogus, tmp_path / "out.safetensors")
    assert main(["weights", "import", "blazepose", "--source", str(bogus), "--out", str(tmp_path / "o.safetensors")]) != 0
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "pose.tflite" in err and not (tmp_path / "o.safetensors").exists()


def test_wheel_without_the_model_is_named(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("mediapipe/__init__.py", "")
    with pytest.raises(ValueError, match=r"no mediapipe/modules/pose_landmark/pose_landmark_full\.tflite"):
        convert_blazepose(wheel, tmp_path / "out.safetensors")


@pytest.mark.skipif(
    not os.environ.get("MEDIAPIPE_WHEEL"),
    reason="set MEDIAPIPE_WHEEL to a downloaded mediapipe-0.10.21 wheel to re-convert it (no download in tests)",
)
def test_conversion_reproduces_the_shipped_file(tmp_path: Path) -> None:
    pytest.importorskip("tflite", reason="the `pretrained` extra (tflite schema reader) is not installed")
    out = tmp_path / BLAZEPOSE_FILE
    meta = convert_blazepose(os.environ["MEDIAPIPE_WHEEL"], out)
    assert meta["source_sha256"] == provenance(SHIPPED)["source_sha256"]
    fresh, shipped = BlazePoseTrunk(out), BlazePoseTrunk(SHIPPED)
    for (name, a), (_, b) in zip(fresh.state_dict().items(), shipped.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
