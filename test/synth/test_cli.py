"""The synth commands are registered and behave (small runs only)."""

from __future__ import annotations

import cv2

from crowd_perception.cli import build_parser, main


def test_commands_registered():
    parser = build_parser()
    args = parser.parse_args(["synth", "--preset", "demo", "--out", "x", "--formats", "coco"])
    assert args.preset == "demo" and args.seed == 0
    assert parser.parse_args(["synth-bench", "--frames", "3"]).frames == 3
    assert parser.parse_args(["synth-sheet"]).out.name == "contact_sheet.png"


def test_bad_format_is_a_clear_error(tmp_path, caplog):
    code = main(["synth", "--preset", "demo", "--out", str(tmp_path), "--formats", "nope", "--frames", "1",
                 "--no-progress"])
    assert code == 2 and "unsupported format" in caplog.text


def test_synth_writes_requested_format(tmp_path):
    code = main(["synth", "--preset", "val_b", "--out", str(tmp_path), "--formats", "crowdhuman", "--sequences", "1",
                 "--frames", "2", "--size", "160", "90", "--no-progress"])
    assert code == 0
    images = sorted((tmp_path / "crowdhuman").rglob("*.jpg"))
    assert len(images) == 2 and cv2.imread(str(images[0])).shape == (90, 160, 3)
