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
