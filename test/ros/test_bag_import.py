"""`crowd-perception bag import`: a folder of images or a video (+ camera_calibration YAML) becomes a
rosbag2 that replay and evaluate take; real frames from ../shared/fixtures/unlabeled_real."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from crowd_perception.cli import main
from crowd_perception.core.camera import InvalidIntrinsicsError
from crowd_perception.core.errors import InputError
from crowd_perception.ros import bag as bagio
from crowd_perception.ros import convert
from crowd_perception.ros.bag_import import import_to_bag, read_camera_info_yaml

from .nodes_fakes import FakeDetector, FakePose3DEstimator, FakePoseEstimator

CALIBRATION = """image_width: 64
image_height: 48
camera_name: test_cam
camera_matrix:
  rows: 3
  cols: 3
  data: [50.0, 0.0, 32.0, 0.0, 50.0, 24.0, 0.0, 0.0, 1.0]
distortion_model: plumb_bob
distortion_coefficients:
  rows: 1
  cols: 5
  data: [-0.1, 0.01, 0.0, 0.0, 0.0]
rectification_matrix:
  rows: 3
  cols: 3
  data: [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
projection_matrix:
  rows: 3
  cols: 4
  data: [49.0, 0.0, 32.0, 0.0, 0.0, 49.0, 24.0, 0.0, 0.0, 0.0, 1.0, 0.0]
"""


@pytest.fixture
def real_frames(fixtures_dir):
    folder = fixtures_dir / "unlabeled_real" / "posetrack18_000001"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (real unlabeled frames live beside the checkout)")
    return folder


def _images(folder, n=4, size=(64, 48), ext=".png"):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        cv2.imwrite(str(folder / f"frame{i * 5}{ext}"), rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    return folder


def test_real_images_import_and_replay_with_the_shipped_models(real_frames, tmp_path, capsys):
    jpgs = sorted(real_frames.glob("*.jpg"))
    assert main(["bag", "import", "--images", str(real_frames), "--out", str(tmp_path / "bag"), "--no-progress"]) == 0
    assert f"{len(jpgs)} frames (1280x720, 10 fps)" in capsys.readouterr().out
    with bagio.BagReader(tmp_path / "bag") as reader:
        frames = list(reader.frames())
    assert [f.header.stamp_ns for f in frames] == [i * 100_000_000 for i in range(len(jpgs))]  # monotonic
    np.testing.assert_array_equal(frames[0].image, cv2.imread(str(jpgs[0])))
    code = main(["replay", "--bag", str(tmp_path / "bag"), "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0 and f"{len(jpgs)} frames: {len(jpgs)} processed, 0 failed" in out
    # evaluate without ground truth reports what it can
    assert main(["evaluate", "--bag", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "has no ground truth" in out and f"frames with tracks                 {len(jpgs)}" in out


def test_real_images_compressed_keep_the_jpeg_bytes_and_the_video_imports(real_frames, tmp_path):
    report = import_to_bag(tmp_path / "c", images=real_frames, compressed=True, progress=False)
    assert report.topic == "/camera/image_raw/compressed" and report.message_type.endswith("CompressedImage")
    with bagio.BagReader(tmp_path / "c") as reader:
        (_, first), *_ = list(reader.read("/camera/image_raw/compressed"))
    assert bytes(first.data) == (real_frames / "000000.jpg").read_bytes() and "jpeg" in first.format
    video = next(real_frames.glob("*.mp4"))
    report = import_to_bag(tmp_path / "v", video=video, fps=25, progress=False)
    assert report.frames > 0 and report.fps == 25
    with bagio.BagReader(tmp_path / "v") as reader:
        stamps = [f.header.stamp_ns for f in reader.frames()]
    assert len(stamps) == report.frames and np.all(np.diff(stamps) == 40_000_000)


def test_camera_info_yaml_gives_a_camera_info_per_frame(tmp_path):
    (tmp_path / "cam.yaml").write_text(CALIBRATION)
    report = import_to_bag(tmp_path / "bag", images=_images(tmp_path / "img"), camera_info=tmp_path / "cam.yaml",
                           fps=20, start_s=3.0, progress=False)
    assert report.frames == 4 and report.camera_info
    with bagio.BagReader(tmp_path / "bag") as reader:
        frames = list(reader.frames())
    assert [f.header.stamp_ns for f in frames] == [3_000_000_000 + i * 50_000_000 for i in range(4)]
    info = frames[0].camera_info_msg
    assert list(info.d) == [-0.1, 0.01, 0.0, 0.0, 0.0] and info.p[0] == 49.0 and info.distortion_model == "plumb_bob"
    assert frames[2].camera is not None and frames[2].camera.fx == 49.0  # the rectified P, as the nodes use it
    assert convert.header_from_msg(info.header) == frames[0].header


def test_images_in_natural_order_and_a_corrupt_file_skipped(tmp_path):
    folder = _images(tmp_path / "img", n=3)  # frame0, frame5, frame10
    (folder / "frame7.png").write_bytes(b"not an image")
    report = import_to_bag(tmp_path / "bag", images=folder, progress=False)
    assert report.frames == 3 and report.skipped == [("frame7.png", "cannot be decoded")]
    with bagio.BagReader(tmp_path / "bag") as reader:
        stamps = [f.header.stamp_ns for f in reader.frames()]
    assert stamps == [0, 100_000_000, 300_000_000]  # the skipped file keeps its place in time
    with pytest.raises(InputError, match=r"frame7\.png: cannot be decoded"):
        import_to_bag(tmp_path / "strict", images=folder, strict=True, progress=False)
    assert not (tmp_path / "strict").exists()  # no half-written bag


@pytest.mark.parametrize(("edit", "error", "message"), [
    (lambda t: t.replace("image_width: 64", "image_width: -3"), InputError, "image_width must be a positive integer"),
    (lambda t: t.replace("data: [50.0, 0.0, 32.0", "data: [.nan, 0.0, 32.0"), InvalidIntrinsicsError, "non-finite"),
    (lambda t: t.replace("data: [50.0, 0.0, 32.0", "data: [1.0e12, 0.0, 32.0"), InvalidIntrinsicsError, "implausible"),
    (lambda t: t.replace("data: [50.0, 0.0, 32.0, 0.0, 50.0, 24.0, 0.0, 0.0, 1.0]", "data: [1, 2]"), InputError,
     "camera_matrix states 3x3 but holds 2 values"),
    (lambda t: t.replace("camera_matrix:", "camera_matrx:"), InputError, "camera_matrix is missing"),
    (lambda t: t + "  - [\n", InputError, "broken YAML"),
])
def test_bad_camera_info_files_are_clear_errors(tmp_path, edit, error, message):
    path = tmp_path / "cam.yaml"
    path.write_text(edit(CALIBRATION))
    with pytest.raises(error, match=message):
        read_camera_info_yaml(path)


def test_import_cli_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "cam.yaml").write_text(CALIBRATION.replace("image_width: 64", "image_width: 100"))
    cases = [
        (["--images", str(tmp_path / "missing")], "does not exist"),
        (["--images", str(tmp_path)], "holds no image files"),
        (["--video", str(tmp_path / "cam.yaml")], "OpenCV cannot open this video"),
        (["--images", str(_images(tmp_path / "img")), "--camera-info", str(tmp_path / "cam.yaml")],
         "another aspect ratio"),
        (["--images", str(tmp_path / "img"), "--fps", "0"], "--fps must be a positive number"),
    ]
    for args, message in cases:
        assert main(["bag", "import", *args, "--out", str(tmp_path / "out"), "--no-progress"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
        assert not (tmp_path / "out").exists()


def test_imported_frames_replay_with_every_stage(tmp_path):
    from crowd_perception.pipeline import Pipeline
    from crowd_perception.ros.replay import replay_bag

    (tmp_path / "cam.yaml").write_text(CALIBRATION)
    import_to_bag(tmp_path / "bag", images=_images(tmp_path / "img", ext=".jpg"), camera_info=tmp_path / "cam.yaml",
                  compressed=True, progress=False)
    pipeline = Pipeline.from_config(runners={"detector": FakeDetector(), "pose2d": FakePoseEstimator("body22"),
                                             "pose3d": FakePose3DEstimator()})
    report = replay_bag(tmp_path / "bag", tmp_path / "out", pipeline)
    assert (report.frames, report.processed, report.failed, report.skipped) == (4, 4, [], [])
    with bagio.BagReader(tmp_path / "out") as reader:
        frame = list(reader.frames())[-1]
    _, poses = convert.poses3d_from_msg(frame.messages[bagio.OUTPUT_TOPICS["poses_3d"]])
    assert poses.placed_with_intrinsics.all()  # the imported CameraInfo reached the 3D stage
    shutil.rmtree(tmp_path / "out")
