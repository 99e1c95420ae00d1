import pytest

from crowd_perception.models.pose2d.modelcard import ship_run


def test_ship_run_copies_files_and_writes_card(tiny_model, tmp_path):
    weights, _ = tiny_model
    run = weights.parent
    (run / "log.csv").write_text("step,loss,target,relation,elapsed_s\n20,0.5,0.04,0.6,30.0\n40,0.3,0.02,0.5,61.5\n")
    written = ship_run(run, tmp_path / "weights", command="crowd-perception train pose --preset smoke")
    names = sorted(p.name for p in written)
    assert names == ["pose2d.config.json", "pose2d.json", "pose2d.md", "pose2d.onnx", "pose2d.safetensors"]
    card = (tmp_path / "weights" / "pose2d.md").read_text()
    assert "40 steps x batch 2" in card and "1.0 min" in card and "target 0.0200" in card
    assert "--preset smoke" in card and "images (1, 3, 96, 160)" in card and "rois (N, 2, 3)" in card


def test_ship_run_refuses_incomplete_runs(tmp_path):
    with pytest.raises(FileNotFoundError, match="--export"):
        ship_run(tmp_path, tmp_path / "weights", command="x")
