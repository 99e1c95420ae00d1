"""``train pose --data images:DIR,bag:PATH``: a user's unlabeled real frames (the PoseTrack frames of
``../shared/fixtures/unlabeled_real``) banked as the domain-adaptation target, boxed by a detector."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from crowd_perception.core.errors import InputError
from crowd_perception.formats import FormatError
from crowd_perception.formats.mixture import parse_sources, part_sizes
from crowd_perception.models.pose2d.config import PRESETS
from crowd_perception.models.pose2d.sources import check_mixture, mixture_bank, part_frames
from crowd_perception.models.pose2d.train import bank_builder, load_or_build_bank, run_training
from crowd_perception.models.pose2d.unlabeled import UnlabeledReaders, image_files
from crowd_perception.ros.bag_import import import_to_bag
from crowd_perception.ros.unlabeled import bag_images, split_bag_source, unlabeled_readers
from crowd_perception.training import apply_overrides


def _unlabeled_dir(fixtures_dir: Path) -> Path:
    return fixtures_dir / "unlabeled_real"


def _centre_box(image: np.ndarray) -> np.ndarray:
    """A stand-in detector: one upright box in the middle of the image."""
    h, w = image.shape[:2]
    return np.array([[0.4 * w, 0.2 * h, 0.6 * w, 0.9 * h]], np.float32)


_CENTRE = UnlabeledReaders(person_boxes=lambda: _centre_box, bag_images=bag_images)


def _config(tmp_path: Path, mix: str, frames: int):
    cfg = apply_overrides(PRESETS["smoke"](), [f"data.source_frames={frames}", "train.device=cpu"])
    return replace(cfg, data=replace(cfg.data, mix=mix, bank_cache=str(tmp_path / "frames.npz")))


def _target_bank(cfg, readers: UnlabeledReaders):
    (bank,) = mixture_bank(parse_sources(cfg.data.mix), cfg.data.source_frames, cfg.bank, bank_builder(cfg), 0, readers)
    return bank


def _assert_target_domain(bank) -> None:
    assert (bank.domain == 1).all() and not bank.has_keypoints.any() and not bank.has_mask.any()
    assert np.isnan(bank.keypoints).all()


def test_images_folder_is_read_recursively_in_order(fixtures_dir):
    files = image_files(_unlabeled_dir(fixtures_dir))
    assert files == sorted(files) and len({f.parent for f in files}) == 1  # the frames sit in a sub-folder
    assert {f.suffix for f in files} == {".jpg"}  # the folder's video is not an image


def test_images_source_banks_target_frames_with_the_finders_boxes(fixtures_dir, tmp_path):
    files = image_files(_unlabeled_dir(fixtures_dir))
    cfg = _config(tmp_path, f"images:{_unlabeled_dir(fixtures_dir)}", frames=len(files))
    bank = _target_bank(cfg, _CENTRE)
    _assert_target_domain(bank)
    boxes = bank.boxes[bank.usable]
    assert len(bank) == len(files) and len(boxes) == len(files)  # stills: every frame, one box each
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


@pytest.mark.xfail(strict=True, reason="the shipped detector scores the fixture's players below the tracker's "
                   "detection_threshold; remove this marker when a retrained detector passes")
def test_shipped_detector_boxes_people_in_real_frames(fixtures_dir, tmp_path):
    files = image_files(_unlabeled_dir(fixtures_dir))
    cfg = _config(tmp_path, f"images:{_unlabeled_dir(fixtures_dir)}", frames=len(files))
    bank = _target_bank(cfg, unlabeled_readers())
    _assert_target_domain(bank)
    assert len(bank) == len(files) and bank.usable.any(axis=1).all()  # every frame shows people
    boxes = bank.boxes[bank.usable]
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


def test_bag_source_reads_an_imported_bag(fixtures_dir, tmp_path):
    folder = image_files(_unlabeled_dir(fixtures_dir))[0].parent
    bag = tmp_path / "recording"
    report = import_to_bag(bag, images=folder, compressed=True, progress=False)
    cfg = _config(tmp_path, f"bag:{bag}:{report.topic}", frames=report.frames)
    bank = _target_bank(cfg, _CENTRE)
    _assert_target_domain(bank)
    distinct = np.unique(bank.images.reshape(len(bank), -1), axis=0)  # the part repeats its frames to fill its share
    assert len(distinct) == len(range(0, report.frames, cfg.bank.frame_stride))  # video: every frame_stride-th image


def test_bag_source_names_its_topic():
    assert split_bag_source("/data/run1") == ("/data/run1", None)
    assert split_bag_source("/data/run1:/front/image_raw/compressed") == ("/data/run1", "/front/image_raw/compressed")


def test_unlabeled_sources_are_refused_without_domain_adaptation(tmp_path):
    for source in ("images", "bag"):
        with pytest.raises(InputError, match=rf"'{source}:/x' has no keypoints.*use_domain"):
            check_mixture(parse_sources(f"synth:train_a,{source}:/x"), use_domain=False)
    cfg = _config(tmp_path, "images:/x", frames=1)
    with pytest.raises(InputError, match="'images:/x': unlabeled frames need a person detector"):
        part_frames(parse_sources(cfg.data.mix)[0], cfg.bank, 0)
    with pytest.raises(FormatError, match=f"'images:{tmp_path}': no .*files"):
        _target_bank(replace(cfg, data=replace(cfg.data, mix=f"images:{tmp_path}")), _CENTRE)


def test_smoke_training_with_unlabeled_frames(fixtures_dir, tmp_path):
    cfg = _config(tmp_path, f"synth:train_a@0.8,images:{_unlabeled_dir(fixtures_dir)}@0.2", frames=5)
    bank = load_or_build_bank(cfg, _CENTRE)  # cached with the bank, detector boxes included
    assert (bank.domain == 1).sum() == part_sizes([0.8, 0.2], 5)[1] and not bank.has_keypoints[bank.domain == 1].any()
    result = run_training(cfg, tmp_path / "run", unlabeled=_CENTRE)
    assert result.steps == 2 and result.last_logs["domain"] > 0
