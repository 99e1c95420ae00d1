"""``crowd-perception gpu-check`` on the CPU: argument and error handling, the tolerance comparison, and a
whole run through the fake TensorRT of ``test/runtime/backends`` (ONNX Runtime behind TensorRT's API), so
that the GPU minutes of a lent machine go to the GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from crowd_perception.pipeline import gpu_check

from .backends.test_tensorrt import HAVE_TRT, install_fake_gpu

needs_no_trt = pytest.mark.skipif(HAVE_TRT, reason="TensorRT is installed; these tests cover its absence")
REPO = Path(__file__).resolve().parents[2]


def _runs(rng: np.random.Generator, noise: float) -> tuple[list[dict], list[dict]]:
    reference = [{"heat": rng.normal(size=(2, 8, 8)), "emb": rng.normal(size=(2, 4))} for _ in range(3)]
    engine = [{k: v + noise * rng.normal(size=v.shape) for k, v in r.items()} for r in reference]
    return reference, engine


def test_compare_outputs_passes_small_errors_and_flags_large_ones():
    rng = np.random.default_rng(0)
    rows = gpu_check.compare_outputs(*_runs(rng, 0.01), tolerance=0.05)
    assert [r["output"] for r in rows] == ["heat", "emb"] and all(r["ok"] for r in rows)
    assert all(0.003 < r["mean_rel"] < 0.02 and r["max_abs"] >= r["mean_abs"] for r in rows)
    rows = gpu_check.compare_outputs(*_runs(rng, 0.2), tolerance=0.05)
    assert not any(r["ok"] for r in rows) and all(r["mean_rel"] > 0.1 for r in rows)


def test_compare_outputs_fails_nan_and_shape_changes_and_refuses_unequal_runs():
    rng = np.random.default_rng(1)
    reference, engine = _runs(rng, 0.0)
    engine[1]["heat"] = np.full_like(engine[1]["heat"], np.nan)
    engine[2]["emb"] = engine[2]["emb"].reshape(4, 2)
    rows = {r["output"]: r for r in gpu_check.compare_outputs(reference, engine, tolerance=0.05)}
    assert not rows["heat"]["ok"] and not rows["emb"]["ok"]
    with pytest.raises(ValueError, match="same, non-zero number of runs"):
        gpu_check.compare_outputs(reference, engine[:2], tolerance=0.05)


@needs_no_trt
def test_missing_tensorrt_is_one_line_and_exit_2(tmp_path, capsys):
    assert gpu_check.main(["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gpu-check: TensorRT is not installed") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_no_output_folder_and_missing_model_are_one_line_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OUT", raising=False)
    assert gpu_check.main([]) == 2
    assert capsys.readouterr().err == "gpu-check: no output folder: give --out or set $OUT\n"
    assert gpu_check.main(["--out", str(tmp_path), "--weights-dir", str(tmp_path), "--models", "pose3d"]) == 2
    assert capsys.readouterr().err == f"gpu-check: model file not found: {tmp_path / 'pose3d.onnx'}\n"


@needs_no_trt
def test_script_without_tensorrt_fails_with_the_reason_in_its_log(tmp_path):
    wheels = tmp_path / "no_wheels"  # whatever `gpu_check.sh fetch` left in .whl/ here is for the GPU's Python
    wheels.mkdir()
    env = {**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable, "GPU_CHECK_WHEELS": str(wheels)}
    done = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "gpu-check: TensorRT is not installed" in (tmp_path / "gpu_check.log").read_text()
    unset = {k: v for k, v in env.items() if k != "OUT"}
    done = subprocess.run(["bash", "scripts/gpu_check.sh"], cwd=REPO, env=unset, capture_output=True, text=True)
    assert done.returncode != 0 and "set OUT" in done.stderr


SMALL = ["--parity-frames", "1", "--calibration-frames", "1", "--bench-frames", "1", "--warmup", "1",
         "--width", "320", "--height", "180", "--threads", "1"]  # fmt: skip


@pytest.mark.slow
def test_fake_gpu_run_writes_parity_bench_sections_and_json(tmp_path, monkeypatch, capsys):
    install_fake_gpu(monkeypatch)
    monkeypatch.setenv("CROWD_PERCEPTION_ENGINE_CACHE", str(tmp_path / "unused"))  # restored after the test
    monkeypatch.setattr(sys, "argv", ["crowd-perception", "gpu-check", "--models", "detector"])
    out = tmp_path / "out"
    assert gpu_check.main(["--out", str(out), "--models", "detector", *SMALL]) == 0
    assert capsys.readouterr().out.startswith("gpu-check: all outputs within tolerance")
    assert sorted(p.name for p in out.iterdir()) == ["RESULTS.md", "gpu_check.json"]
    results = (out / "RESULTS.md").read_text()
    for name in ("gpu-tensorrt-parity", "gpu-bench-tensorrt-fp16", "gpu-bench-tensorrt-int8"):
        assert f"<!-- BEGIN {name} -->" in results
    assert "Command: `crowd-perception gpu-check --models detector`" in results
    assert "GPU Fake GPU, TensorRT 10.7.0" in results
    assert "| detector | fp16 |" in results and "| detector | int8 |" in results and "| NO |" not in results
    report = json.loads((out / "gpu_check.json").read_text())
    assert [(p["model"], p["precision"]) for p in report["parity"]] == [("detector", "fp16"), ("detector", "int8")]
    assert {r["output"] for r in report["parity"][0]["outputs"]} == {"cls_logits", "box_distances", "iou_logits",
                                                                   "embeddings"}  # fmt: skip
    assert report["bench"]["int8"]["backends"] == {"detector": "tensorrt"}
    assert report["int8_export"]["detector"]["calibration_batches"] == 1


@pytest.mark.slow
def test_fake_gpu_output_outside_tolerance_exits_1_naming_it(tmp_path, monkeypatch, capsys):
    install_fake_gpu(monkeypatch)
    monkeypatch.setenv("CROWD_PERCEPTION_ENGINE_CACHE", str(tmp_path / "unused"))
    monkeypatch.setitem(gpu_check.TOLERANCES, "fp16", 1e-9)  # FP16 never matches float this closely
    out = tmp_path / "out"
    assert gpu_check.main(["--out", str(out), "--models", "pose3d", "--precisions", "fp16", *SMALL]) == 1
    err = capsys.readouterr().err
    assert err.startswith("gpu-check: outside tolerance: pose3d fp16 scores") and err.count("\n") == 1
    assert "| pose3d | fp16 |" in (out / "RESULTS.md").read_text()


@pytest.mark.slow
def test_fake_gpu_run_with_every_model_adds_the_pipeline_sweep(tmp_path, monkeypatch):
    install_fake_gpu(monkeypatch)
    monkeypatch.setenv("CROWD_PERCEPTION_ENGINE_CACHE", str(tmp_path / "unused"))
    out = tmp_path / "out"
    assert gpu_check.main(["--out", str(out), "--precisions", "fp16", "--people", "2", "5", *SMALL]) == 0
    results = (out / "RESULTS.md").read_text()
    assert "<!-- BEGIN gpu-pipeline-resolution -->" in results and "on TensorRT (GPU)" in results
    sweep = json.loads((out / "gpu_check.json").read_text())["pipeline_resolution"]["sweep"]
    assert [(r["variant"], r["scene"]) for r in sweep] == [("fp16", "320x180, 2 people"), ("fp16", "320x180, 5 people")]
    assert all(r["frames"] == 1 and r["fps"] > 0 for r in sweep)
