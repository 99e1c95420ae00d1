"""End to end on a toy CrowdHuman-format set: train a tiny detector (and resume it), run it through
the torch and ONNX Runtime runners (same detections, source pixels), evaluate it."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crowd_perception.models.detector.config import get_preset  # noqa: E402
from crowd_perception.models.detector.runner import PedestrianDetector  # noqa: E402
from crowd_perception.training.config import apply_overrides  # noqa: E402


@pytest.fixture(scope="module")
def trained(toy_odgt, tmp_path_factory):
    from crowd_perception.models.detector.train import train_detector

    cfg = apply_overrides(
        get_preset("tiny"),
        [
            "data.source=crowdhuman",
            f"data.path={toy_odgt}",
            "val.source=crowdhuman",
            f"val.path={toy_odgt}",
            "train.steps=4",
            "train.checkpoint_every=2",
        ],
    )
    out = tmp_path_factory.mktemp("det_run")
    result = train_detector(cfg, out)
    return cfg, out, result


def test_training_writes_weights_logs_and_eval(trained) -> None:
    _, out, result = trained
    assert result.steps == 4 and result.weights.is_file() and (out / "log.csv").is_file()
    assert {"eval/mr2", "eval/ap", "eval/recall"} <= set(result.eval_metrics)
    from crowd_perception.training import read_config

    assert read_config(result.weights)["loss"]["num_identities"] == 3


def test_resume_continues(trained, tmp_path) -> None:
    from crowd_perception.models.detector.train import train_detector

    cfg, out, _ = trained
    more = apply_overrides(cfg, ["train.steps=6"])
    result = train_detector(more, tmp_path, resume=out / "last.safetensors")
    assert result.steps == 6


@pytest.mark.slow  # the dynamo ONNX export takes tens of seconds on a loaded machine
def test_torch_and_onnx_runners_agree(trained, tmp_path, draw) -> None:
    from crowd_perception.models.detector.export import export_detector

    _, _, result = trained
    export_detector(result.weights, tmp_path / "detector.onnx")
    torch_runner = PedestrianDetector(result.weights, backend="torch", score_threshold=0.0)
    ort_runner = PedestrianDetector(tmp_path / "detector.onnx", backend="onnxruntime", score_threshold=0.0)
    image, _ = draw(np.random.default_rng(5), 0, width=150, height=100)  # not the input size
    a, b = torch_runner.detect(image), ort_runner.detect(image)
    assert len(a) == len(b) > 0
    # Detections are sorted by score; two whose scores differ by less than the backends' float noise may
    # swap places, so pair each torch detection with its ONNX twin (one to one) before comparing.
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.abs(a.boxes[:, None] - b.boxes[None]).sum(-1))
    np.testing.assert_allclose(a.boxes[rows], b.boxes[cols], atol=1e-2)
    np.testing.assert_allclose(a.scores[rows], b.scores[cols], atol=1e-4)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)  # the same score sequence, whatever the tie order
    assert a.embeddings.shape[1] == 8
    assert (a.boxes[:, [0, 2]] >= 0).all() and (a.boxes[:, [0, 2]] <= 150).all()  # source pixels
    assert ort_runner.detect_batch([]) == []
    # the model card is rendered from the exported files
    import shutil

    from crowd_perception.models.detector.card import render_model_card
    from crowd_perception.training import config_path

    shutil.copyfile(config_path(result.weights), tmp_path / "detector.config.json")
    card = render_model_card(tmp_path / "detector.onnx", "| metrics |", "crowd-perception train detector --preset tiny")
    assert "top-K 10, lambda 1.5, out-of-box constant 1000" in card and "| metrics |" in card
    log = tmp_path / "log.csv"  # two segments: 120 s, then a resume that ran 60 s
    log.write_text("step,loss,elapsed_s\n10,2.0,60\n20,1.5,120\n30,1.2,30\n50,1.1,60\n", encoding="utf-8")
    card = render_model_card(tmp_path / "detector.onnx", "| metrics |", "x", train_log=log)
    assert "50 steps in 3 min over all resumes" in card


def test_runner_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        PedestrianDetector(tmp_path / "missing.onnx")
    (tmp_path / "x.onnx").write_bytes(b"0")
    with pytest.raises(ValueError, match="safetensors"):
        PedestrianDetector(tmp_path / "x.onnx", backend="torch")


def test_ablation_table(toy_odgt, tmp_path, draw) -> None:
    from crowd_perception.models.detector.ablation import run_ablation

    frames = [draw(np.random.default_rng(i), i) for i in range(2)]
    overrides = ["data.source=crowdhuman", f"data.path={toy_odgt}", "val.source=crowdhuman", f"val.path={toy_odgt}"]
    table = run_ablation(
        "tiny", tmp_path, frames, steps=1, minutes=5, variants=["lla", "uniform"], extra_overrides=overrides
    )
    assert "| LLA + uncertainty | 1 |" in table and "| LLA + uniform | 1 |" in table
    with pytest.raises(ValueError, match="unknown ablation"):
        run_ablation("tiny", tmp_path, frames, 1, 1, variants=["atss"])


def test_ablation_results_go_to_the_named_section(monkeypatch, tmp_path) -> None:
    """``ablation detector --section`` names the RESULTS.md section it writes (it once always wrote
    ``detector-ablation``, replacing an earlier table made with other settings)."""
    from crowd_perception.cli import main
    from crowd_perception.models.detector import ablation, evaluate
    from crowd_perception.utils import results

    written = {}
    monkeypatch.setattr(evaluate, "load_eval_frames", lambda *args: [])
    monkeypatch.setattr(ablation, "run_ablation", lambda *args, **kwargs: "| table |")
    monkeypatch.setattr(results, "update_results_section", lambda name, title, body: written.update(name=name, title=title))
    code = main(["ablation", "detector", "--preset", "tiny", "--steps", "7", "--out", str(tmp_path), "--results",
                 "--section", "detector-ablation-mnv2"])
    assert code == 0 and written == {
        "name": "detector-ablation-mnv2", "title": "Detector ablation (tiny): assignment and task weighting (equal budget: 7 steps)"}


def test_training_on_a_mixture_of_real_and_drawn_sources(toy_odgt, fixtures_dir, tmp_path) -> None:
    """``train detector --data`` path: drawn CrowdHuman frames (3 identities) mixed 1:1 with the real
    COCO sample (no identities); the identity classifier is sized for the mixture and training runs."""
    from crowd_perception.cli import main
    from crowd_perception.training import read_config

    coco = fixtures_dir / "coco_keypoints/coco/test_coco.json"
    code = main(
        [
            "train",
            "detector",
            "--preset",
            "tiny",
            "--data",
            f"crowdhuman:{toy_odgt}@1,coco:{coco}@1",
            "--set",
            "val.source=crowdhuman",
            "--set",
            f"val.path={toy_odgt}",
            "--set",
            "train.steps=2",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    config = read_config(tmp_path / "model.safetensors")
    assert config["data"]["mix"].startswith("crowdhuman:") and config["loss"]["num_identities"] == 3
