"""``crowd-perception evaluate pose`` end to end on the tiny exported network."""

import json

from crowd_perception.cli import main


def test_evaluate_latency_only_skips_accuracy(tiny_model, tmp_path, capsys):
    _, onnx_path = tiny_model
    out = tmp_path / "metrics.json"
    code = main(["evaluate", "pose", "--model", str(onnx_path), "--label", "tiny", "--data", "bench", "--frames", "1",
                 "--latency-only", "--json", str(out)])
    assert code == 0
    metrics = json.loads(out.read_text())["tiny"]
    assert "frames" not in metrics and set(metrics["latency_ms"]) == {"1", "10", "30", "60", "80"}
    text = capsys.readouterr().out
    assert "| tiny | " in text and "60 / 1" in text and "OKS" not in text and "| group |" not in text


def test_evaluate_with_the_mean_pose_baseline(tiny_model, tmp_path, capsys):
    _, onnx_path = tiny_model
    out = tmp_path / "metrics.json"
    code = main(["evaluate", "pose", "--model", str(onnx_path), "--label", "tiny", "--baseline", "mean-pose", "--data", "val_a",
                 "--frames", "1", "--json", str(out)])
    assert code == 0
    metrics = json.loads(out.read_text())
    assert set(metrics) == {"tiny", "mean pose (floor)"}
    assert metrics["mean pose (floor)"]["frames"]["all"]["people"] == metrics["tiny"]["frames"]["all"]["people"]
    assert "| mean pose (floor) | all |" in capsys.readouterr().out


def test_evaluate_several_real_keypoint_files_in_one_table(tiny_model, fixtures_dir, tmp_path):
    _, onnx_path = tiny_model
    files = [fixtures_dir / "coco_keypoints/coco/test_coco.json", fixtures_dir / "ochuman/ochuman/test_ochuman.json"]
    out = tmp_path / "metrics.json"
    code = main(["evaluate", "pose", "--model", str(onnx_path), "--label", "tiny", "--baseline", "mean-pose",
                 "--data", ",".join(str(f) for f in files), "--min-height", "0", "--json", str(out)])
    assert code == 0
    groups = json.loads(out.read_text())["mean pose (floor)"]["frames"]
    assert {"density/test_coco", "density/test_ochuman"} <= set(groups)
    assert groups["all"]["people"] == groups["density/test_coco"]["people"] + groups["density/test_ochuman"]["people"]


def test_blazepose_baseline_beats_the_mean_pose_on_real_people(fixtures_dir, tmp_path):
    """``--baseline blazepose``: the converted trunk alone, decoded like our models, finds real COCO people's
    joints far better than the mean-pose floor (what the heads of ``--preset cpu_blazepose`` start from)."""
    out = tmp_path / "metrics.json"
    code = main(["evaluate", "pose", "--baseline", "blazepose", "--baseline", "mean-pose",
                 "--data", str(fixtures_dir / "coco_keypoints/coco/test_coco.json"), "--json", str(out)])
    assert code == 0
    metrics = {label: entry["frames"]["all"] for label, entry in json.loads(out.read_text()).items()}
    trunk, floor = metrics["BlazePose trunk alone (no head)"], metrics["mean pose (floor)"]
    assert trunk["people"] == floor["people"] >= 10
    assert trunk["PCK@0.1 visible"] > floor["PCK@0.1 visible"] + 0.15
    assert trunk["L/R sides"] > 0.8 and 0.67 < trunk["spread x"] < 1.5
