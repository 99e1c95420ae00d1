"""``crowd-perception ablation tracking --source detector`` end to end: a tiny random-init detector
exported to ONNX, a few synthetic frames, every variant evaluated with TrackEval into one table; and
``bench tracking-peers`` on a few frames (peers that are not installed must be named as not run)."""

from __future__ import annotations

import json
from itertools import islice

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory):
    from crowd_perception.models.detector.config import get_preset
    from crowd_perception.models.detector.export import export_module
    from crowd_perception.models.detector.model import PedestrianDetectorNet

    torch.manual_seed(0)
    cfg = get_preset("tiny")
    path = tmp_path_factory.mktemp("tiny_detector") / "detector.onnx"
    export_module(PedestrianDetectorNet(cfg.model), cfg, path, check=False)
    return path


def test_detector_source_writes_a_table(tiny_onnx, tmp_path, monkeypatch, capsys):
    import crowd_perception.synth as synth
    from crowd_perception.cli import main

    real_generate = synth.generate
    # 6 small frames of the one-sequence demo preset instead of the 400-frame bench preset
    monkeypatch.setattr(synth, "generate", lambda preset, seed=0: islice(real_generate("demo", seed=seed), 6))
    out = tmp_path / "reports.json"
    argv = ["ablation", "tracking", "--source", "detector", "--model", str(tiny_onnx), "--max-frames", "4"]
    assert main([*argv, "--conditions", "nominal", "dropped", "--json", str(out), "--no-results"]) == 0
    printed = capsys.readouterr().out
    assert "| variant | nominal HOTA | nominal IDF1 | nominal MOTA | nominal IDSW | dropped HOTA" in printed
    assert "the first 4 frames of each sequence" in printed and "4 frames" in printed
    assert "all: AP50" in printed and "reasonable: AP50" in printed
    reports = json.loads(out.read_text())
    assert len(reports) == 16 and "default (all) / dropped" in reports  # 8 variants x 2 conditions


def test_operating_points_evaluate_the_default_profile_at_each_threshold_pair(tiny_onnx, tmp_path, monkeypatch, capsys):
    import crowd_perception.synth as synth
    from crowd_perception.cli import main

    real_generate = synth.generate
    monkeypatch.setattr(synth, "generate", lambda preset, seed=0: islice(real_generate("demo", seed=seed), 4))
    out = tmp_path / "reports.json"
    argv = ["ablation", "tracking", "--source", "detector", "--model", str(tiny_onnx), "--max-frames", "4",
            "--conditions", "nominal", "--no-results"]
    assert main([*argv, "--operating-points", "0.5:0.6", "0.6:0.7", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| det 0.5 / new 0.6 | " in printed and "| det 0.6 / new 0.7 | " in printed and "| jde | " not in printed
    assert set(json.loads(out.read_text())) == {"det 0.5 / new 0.6 / nominal", "det 0.6 / new 0.7 / nominal"}
    assert main([*argv, "--operating-points", "0.7:0.6"]) != 0
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "0.7:0.6" in error and len(error.splitlines()) == 1


def test_bench_tracking_peers_prints_speed_accuracy_and_verdict(tmp_path, monkeypatch, capsys):
    import crowd_perception.synth as synth
    import crowd_perception.tracking.cli as tracking_cli
    from crowd_perception.cli import main
    from crowd_perception.tracking.peers import PEERS, unavailable

    real_generate = synth.generate
    monkeypatch.setattr(synth, "generate", lambda preset, seed=0: islice(real_generate("demo", seed=seed), 6))
    # pinning this process to one core would outlive the test (the benchmark itself runs pinned)
    monkeypatch.setattr(tracking_cli, "_single_core", lambda: None)
    out = tmp_path / "peers.json"
    argv = ["bench", "tracking-peers", "--people", "5", "--frames", "4", "--repeats", "1", "--json", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert (
        "| people | detections/frame | tracker | CPU median ms | CPU p99 ms | median / ours | p99 / ours |" in printed
    )
    assert "| tracker | HOTA | IDF1 | MOTA | IDSW |" in printed and "| 5 | " in printed
    assert "Faster than every peer at every size (median CPU time): " in printed
    assert ("Versions: `" in printed) == any(unavailable(n) is None for n in PEERS)
    for name in PEERS:  # each peer has its rows, or the section says why it did not run
        assert (f"| {name} | " in printed) if unavailable(name) is None else (f"Not run: `{name}`" in printed)
    assert set(json.loads(out.read_text())) == {"ours", *(n for n in PEERS if unavailable(n) is None)}
