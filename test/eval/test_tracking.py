"""The TrackEval wrapper reproduces TrackEval's own numbers on the real MOT15 TUD ground truth."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from crowd_perception.cli import main
from crowd_perception.eval.tracking import SUMMARY_FIELDS, evaluate_mot, format_table
from crowd_perception.formats.mot import MotRows, read_mot_rows, write_mot_rows

trackeval = pytest.importorskip("trackeval", reason="trackeval (extras 'eval') is not installed")

SEQUENCES = ("TUD-Campus", "TUD-Stadtmitte")


def _perturbed_results(gt_root: Path, out: Path, seed: int = 0) -> None:
    """A tracker-like copy of the ground truth: 10 % misses, 3 px jitter, some identity switches."""
    rng = np.random.default_rng(seed)
    for seq in SEQUENCES:
        gt = read_mot_rows(gt_root / seq / "gt" / "gt.txt")
        keep = rng.random(len(gt)) > 0.1
        ids = gt.ids + 100 * ((gt.frames > 30) & (gt.ids % 3 == 0))  # every third person switches at frame 31
        rows = MotRows(
            gt.frames[keep],
            ids[keep],
            (gt.boxes + rng.normal(0, 3, gt.boxes.shape))[keep],
            rng.random(len(gt))[keep],
            gt.classes[keep],
            gt.visibility[keep],
        )
        write_mot_rows(out / f"{seq}.txt", rows, gt=False)


def _trackeval_directly(gt_root: Path, results: Path, tmp: Path) -> dict:
    """TrackEval on its standard layout: gt/MOT15-train/<seq>, seqmaps, trackers/MOT15-train/<name>/data."""
    gt_dir = tmp / "te" / "gt"
    for seq in SEQUENCES:
        shutil.copytree(gt_root / seq, gt_dir / "MOT15-train" / seq)
    (gt_dir / "seqmaps").mkdir(parents=True)
    (gt_dir / "seqmaps" / "MOT15-train.txt").write_text("name\n" + "\n".join(SEQUENCES) + "\n")
    shutil.copytree(results, tmp / "te" / "trackers" / "MOT15-train" / "ours" / "data")
    dataset = trackeval.datasets.MotChallenge2DBox(
        {
            "GT_FOLDER": str(gt_dir),
            "TRACKERS_FOLDER": str(tmp / "te" / "trackers"),
            "OUTPUT_FOLDER": str(tmp / "te" / "out"),
            "BENCHMARK": "MOT15",
            "SPLIT_TO_EVAL": "train",
            "PRINT_CONFIG": False,
        }
    )
    evaluator = trackeval.Evaluator({"PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
                                     "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
                                     "LOG_ON_ERROR": None})  # fmt: skip
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
    with contextlib.redirect_stdout(io.StringIO()):
        output, _ = evaluator.evaluate([dataset], metrics)
    return output["MotChallenge2DBox"]["ours"], metrics


def test_wrapper_equals_trackeval_on_real_ground_truth(fixtures_dir, tmp_path):
    gt_root = fixtures_dir / "mot15_tud_gt"
    _perturbed_results(gt_root, tmp_path / "pred")
    report = evaluate_mot(gt_root, tmp_path / "pred")
    assert report.benchmark == "MOT15"
    reference, metrics = _trackeval_directly(gt_root, tmp_path / "pred", tmp_path)
    for seq, ours in [*report.sequences.items(), ("COMBINED_SEQ", report.combined)]:
        res = reference[seq]["pedestrian"]
        for metric, name in SUMMARY_FIELDS:
            expected = res[metric][name]
            expected = int(expected) if isinstance(ours[name], int) else 100 * float(np.mean(expected))
            assert ours[name] == expected, (seq, name)
    # and the printed table shows TrackEval's own summary strings
    for metric in metrics:
        summary = metric.summary_results({seq: r["pedestrian"][metric.get_name()] for seq, r in reference.items()})
        table = format_table(report).splitlines()[-1].split()
        header = format_table(report).splitlines()[1].split()
        for name, value in summary.items():
            if name in header:
                assert table[header.index(name)] == value, name
    assert 0 < report.combined["IDSW"] and report.combined["MOTA"] < 100 and report.combined["HOTA"] < 100


def test_ground_truth_against_itself_is_perfect(fixtures_dir, tmp_path):
    gt_root = fixtures_dir / "mot15_tud_gt"
    for seq in SEQUENCES:
        rows = read_mot_rows(gt_root / seq / "gt" / "gt.txt")
        write_mot_rows(tmp_path / "pred" / f"{seq}.txt", rows, gt=False)
    combined = evaluate_mot(gt_root, tmp_path / "pred").combined
    assert combined["HOTA"] == pytest.approx(100) and combined["MOTA"] == pytest.approx(100)
    assert combined["IDF1"] == pytest.approx(100) and combined["IDSW"] == 0
    assert combined["GT_IDs"] == combined["IDs"] == 18


def test_cli_prints_a_table_and_writes_json(fixtures_dir, tmp_path, capsys):
    gt_root = fixtures_dir / "mot15_tud_gt"
    _perturbed_results(gt_root, tmp_path / "pred")
    code = main(
        [
            "evaluate",
            "tracking",
            "--gt",
            str(gt_root),
            "--pred",
            str(tmp_path / "pred"),
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "COMBINED" in out and "HOTA" in out and "TUD-Stadtmitte" in out
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["combined"] == evaluate_mot(gt_root, tmp_path / "pred").combined


def test_missing_results_file_is_a_clear_error(fixtures_dir, tmp_path):
    (tmp_path / "pred").mkdir()
    (tmp_path / "pred" / "TUD-Campus.txt").write_text("")
    with pytest.raises(FileNotFoundError, match="TUD-Stadtmitte"):
        evaluate_mot(fixtures_dir / "mot15_tud_gt", tmp_path / "pred")


@pytest.mark.parametrize(("change", "message"), [
    (lambda fields: fields[:4] + ["nan"] + fields[5:], "non-finite value"),
    (lambda fields: fields[:4] + ["inf"] + fields[5:], "non-finite value"),
    (lambda fields: fields[:4] + ["-3"] + fields[5:], "negative box size"),
    (lambda fields: fields[:6], "6 columns, expected at least 7"),
    (lambda fields: ["500"] + fields[1:], "frame 500 is beyond seqLength 71"),
])
def test_faulty_results_are_one_line_errors_naming_file_and_line(fixtures_dir, tmp_path, capsys, change, message):
    _perturbed_results(fixtures_dir / "mot15_tud_gt", tmp_path / "pred")
    path = tmp_path / "pred" / "TUD-Campus.txt"
    lines = path.read_text().splitlines()
    lines[4] = ",".join(change(lines[4].split(",")))
    path.write_text("\n".join(lines) + "\n")
    code = main(["evaluate", "tracking", "--gt", str(fixtures_dir / "mot15_tud_gt"), "--pred", str(tmp_path / "pred")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert str(path) in err and (f"{path}:5:" in err or "beyond seqLength" in err)


def test_an_id_twice_in_a_frame_is_a_clear_error(fixtures_dir, tmp_path):
    from crowd_perception.formats.dataset import FormatError

    _perturbed_results(fixtures_dir / "mot15_tud_gt", tmp_path / "pred")
    path = tmp_path / "pred" / "TUD-Campus.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[0]]) + "\n")
    with pytest.raises(FormatError, match="occurs twice in frame 1"):
        evaluate_mot(fixtures_dir / "mot15_tud_gt", tmp_path / "pred")
