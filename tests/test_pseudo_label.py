"""Teacher pseudo-labels: confidence, naming, the folder dataset written and the summary lines."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from seg.data.formats.folder import scan
from seg.inference import Predictor, load_predictor
from seg.mining.pseudo_labels import (
    MANIFEST_COLUMNS,
    REVIEW_ROW_HEIGHT,
    confidence,
    find_images,
    output_names,
    parse_extensions,
    pseudo_label,
    report_lines,
)
from seg.models import SegOutput
from seg.models.weights import save_model


class BrightnessTeacher(nn.Module):
    """Foreground where the image is bright: ``p = sigmoid(40 * (mean RGB - 0.5))``.

    Sure (p < 1e-8 or > 1 - 1e-8) on black and white pixels, p = 0.5 on mid grey.
    """

    def forward(self, x: torch.Tensor) -> SegOutput:
        return SegOutput(logits=40.0 * (x.mean(dim=1, keepdim=True) - 0.5))


def portrait(h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """Black frame with a white 'person' box ``(top, bottom, left, right)``."""
    image = np.zeros((h, w, 3), np.uint8)
    top, bottom, left, right = box
    image[top:bottom, left:right] = 255
    return image


def save(path: Path, pixels: np.ndarray, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **kwargs)
    return path


@pytest.fixture
def unlabelled(tmp_path) -> dict[str, Path]:
    """Three confident portraits (two sharing a stem), an uncertain grey one, a truncated JPEG and
    a text file."""
    root = tmp_path / "pool"
    files = {
        "a/p1": save(root / "a" / "p1.png", portrait(80, 120, (20, 80, 40, 80))),
        "b/p1": save(root / "b" / "p1.jpg", portrait(64, 64, (16, 64, 16, 48)), quality=98),
        "wide": save(root / "wide.webp", portrait(90, 200, (30, 90, 60, 140)), lossless=True),
        "grey": save(root / "grey.png", np.full((50, 70, 3), 128, np.uint8)),
    }
    broken = save(root / "broken.jpg", portrait(64, 64, (16, 64, 16, 48)))
    broken.write_bytes(broken.read_bytes()[:200])  # truncated: header only
    files["broken"] = broken
    (root / "notes.txt").write_text("not an image")
    return files


def test_confidence_counts_pixels_outside_the_band():
    prob = np.array([0.0, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 1.0])
    assert confidence(prob, band=0.1) == pytest.approx(6 / 9)  # 0, .05, .1, .9, .95, 1
    assert confidence(prob, band=0.5) == 1.0
    assert confidence(prob, band=0.0) == pytest.approx(2 / 9)
    with pytest.raises(ValueError, match="--band"):
        confidence(prob, band=0.7)


def test_names_are_unique_whatever_the_extension(tmp_path):
    paths = [tmp_path / p for p in ("a/b/x.jpg", "c/x.png", "y.jpg", "y.png", "z.png")]
    assert output_names(paths, tmp_path) == ["a__b__x", "c__x", "y__jpg", "y__png", "z"]
    assert parse_extensions("JPG, png") == (".jpeg", ".jpg", ".png")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        find_images(tmp_path / "missing")


@pytest.fixture
def teacher(tmp_path) -> Path:
    """The brightness teacher saved as weights, taking 32 x 48 input."""
    return save_model(
        tmp_path / "teacher.pt",
        BrightnessTeacher(),
        {"_target_": f"{__name__}.BrightnessTeacher"},
        {"input_size": [32, 48]},
    )


def test_pseudo_label_writes_a_folder_dataset(tmp_path, unlabelled, teacher):
    out = tmp_path / "labelled"
    summary = pseudo_label(load_predictor(teacher), tmp_path / "pool", out)

    assert summary["counts"] == {
        "found": 5,
        "kept": 3,
        "rejected": 2,
        "unreadable": 1,
        "low_confidence": 1,
        "empty_masks": 0,
    }
    names = {"a/p1": "a__p1", "b/p1": "b__p1", "wide": "wide"}
    for key, name in names.items():
        source = unlabelled[key]
        copied = out / "images" / f"{name}{source.suffix}"
        assert copied.read_bytes() == source.read_bytes()
        mask = np.asarray(Image.open(out / "masks" / f"{name}.png"))
        original = np.asarray(Image.open(source).convert("RGB"))
        assert mask.shape == original.shape[:2] and mask.dtype == np.uint8
        assert set(np.unique(mask).tolist()) == {0, 255}
        truth = original.mean(axis=2) > 127
        iou = np.logical_and(mask > 0, truth).sum() / np.logical_or(mask > 0, truth).sum()
        assert iou > 0.9, (key, iou)

    with (out / "manifest.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == MANIFEST_COLUMNS
        manifest = list(reader)
    assert [r["id"] for r in manifest] == sorted(names.values())
    for row in manifest:
        image = Image.open(out / row["image"])
        assert (int(row["width"]), int(row["height"])) == image.size
        assert (out / row["mask"]).is_file() and row["mask"] == f"masks/{row['id']}.png"
        assert row["split"] == ""
        assert float(row["confidence"]) >= 0.9
    assert {r["source"] for r in manifest} == {"a/p1.png", "b/p1.jpg", "wide.webp"}

    with (out / "rejected.csv").open(newline="") as f:
        rejected = {Path(r["image"]).name: r for r in csv.DictReader(f)}
    assert set(rejected) == {"grey.png", "broken.jpg"}
    assert float(rejected["grey.png"]["confidence"]) == 0.0
    assert "low confidence" in rejected["grey.png"]["reason"]
    assert rejected["broken.jpg"]["confidence"] == ""
    assert "truncated" in rejected["broken.jpg"]["reason"]

    # it reads back as a folder dataset: images and masks matched by stem
    records = scan(out, "pseudo")
    assert [r.id for r in records] == [f"pseudo/{n}" for n in sorted(names.values())]
    assert {p.stem for p in (out / "images").iterdir()} == {
        p.stem for p in (out / "masks").iterdir()
    }
    assert all(r.mask.is_file() and r.split is None for r in records)
    assert all("confidence" not in r.attributes for r in records)

    review = np.asarray(Image.open(out / "review.png"))
    assert review.shape[0] == 3 * REVIEW_ROW_HEIGHT + 2 * 2
    saved = json.loads((out / "summary.json").read_text())
    assert saved["thresholds"]["min_confidence"] == 0.9 and saved["teacher"]["input_size"] == [
        32,
        48,
    ]
    printed = "\n".join(report_lines(summary))
    assert "Kept 3 of 5 images; rejected 2" in printed
    assert f"python train.py experiment=attn_distill data=folder data.root={out}" in printed

    with pytest.raises(FileExistsError, match="--overwrite"):
        pseudo_label(load_predictor(teacher), tmp_path / "pool", out)


def test_stricter_settings_and_limits(tmp_path, unlabelled):
    class SoftBackend:
        """A fixed 0.85 / 0.02 map (sure only with a wide band)."""

        kind, layout, height, width = "fake", "NCHW", 16, 16

        def run(self, images):
            return np.where(images.mean(axis=1, keepdims=True) > 0.6, 0.85, 0.02).astype(np.float32)

    def Soft() -> Predictor:  # noqa: N802 - the teacher's name in the calls below
        return Predictor(SoftBackend(), "soft", Path("soft.pt"))

    out = tmp_path / "strict"
    summary = pseudo_label(
        Soft(), tmp_path / "pool", out, min_confidence=0.8, band=0.1, extensions=["png"]
    )
    assert summary["counts"]["found"] == 2  # a/p1.png, grey.png
    assert summary["counts"]["kept"] == 1  # grey.png: all 0.02, sure and empty
    assert summary["counts"]["empty_masks"] == 1
    summary = pseudo_label(
        Soft(),
        tmp_path / "pool",
        out,
        min_confidence=0.8,
        band=0.2,
        extensions=["png"],
        overwrite=True,
    )
    assert summary["counts"]["kept"] == 2
    limited = pseudo_label(Soft(), tmp_path / "pool", tmp_path / "few", band=0.2, max_images=1)
    assert limited["counts"]["found"] == 1


def test_reference_masks_score_kept_and_rejected_pseudo_masks(tmp_path, unlabelled, teacher):
    """With ground truth for some images, the summary says how good kept vs rejected masks are."""
    refs = tmp_path / "refs"
    truth = np.zeros((80, 120), np.uint8)
    truth[20:80, 40:60] = 255  # half of the white box: the pseudo-mask (the whole box) has IoU 0.5
    save(refs / "a" / "p1.png", truth)
    save(refs / "grey.png", np.full((50, 70), 255, np.uint8))  # the uncertain grey image
    out = tmp_path / "labelled"
    summary = pseudo_label(load_predictor(teacher), tmp_path / "pool", out, reference_masks=refs)
    quality = summary["quality"]
    assert quality["kept"]["n"] == 1 and quality["kept"]["iou_mean"] == pytest.approx(0.5, abs=0.02)
    assert quality["rejected"]["n"] == 1  # the grey image: rejected, scored against its reference
    assert 0.0 <= quality["rejected"]["iou_mean"] <= 1.0
