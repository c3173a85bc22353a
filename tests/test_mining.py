"""Badcase mining: failure categories, ranking, the CSV / sheets / summary and the workflow of
scripts/mine_badcases.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from seg.data import SegDataset
from seg.inference import Predictor, load_predictor
from seg.mining.categories import (
    CATEGORIES,
    FLAGS,
    boundary_band,
    categorize,
    mean_luma,
    primary_category,
    scaled_band_px,
)
from seg.mining.ranking import CSV_COLUMNS, binary_entropy_bits, mine, write_badcases
from seg.mining.workflow import mine_pool, report_lines

H, W = 144, 256


def person(h: int = H, w: int = W, rows=(40, 144), cols=(88, 168)) -> np.ndarray:
    """A rectangular 'person' standing on the bottom edge of the frame."""
    mask = np.zeros((h, w), np.float32)
    mask[rows[0] : rows[1], cols[0] : cols[1]] = 1.0
    return mask


def grey(value: float, h: int = H, w: int = W) -> np.ndarray:
    return np.full((3, h, w), value, np.float32)


# --- categories ------------------------------------------------------------------------------


def test_band_scales_with_image_size():
    assert scaled_band_px(144, 256) == 5
    assert scaled_band_px(288, 512) == 10
    assert scaled_band_px(64, 96) == 2
    assert scaled_band_px(8, 8) == 1
    band = boundary_band(person() > 0.5, 5)
    # 5 px each side of the left, right and top edges; none along the frame (bottom)
    assert band[100, 83:93].all() and not band[100, 82] and not band[100, 93]
    assert band[35:45, 120].all() and not band[34, 120] and not band[45, 120]
    assert not band[143, 100:156].any()


def test_missing_interior_block_is_missing_body():
    target = person()
    pred = target.copy()
    pred[80:120, 100:156] = 0.0  # 40 x 56 = 2240 px of the 8320 px body, far from the edge
    cats = categorize(grey(0.5), pred, target)
    assert cats.primary == "missing_body"
    assert cats.flags["missing_body"] and not cats.flags["background_fp"]
    assert cats.measures["missing_share"] == pytest.approx(2240 / 8320)
    assert cats.measures["band_share"] == 0.0


def test_thin_boundary_shift_is_boundary():
    target = person()
    pred = cv2.dilate(target, np.ones((7, 7), np.uint8))  # 3 px too wide on every edge
    cats = categorize(grey(0.5), pred, target)
    assert cats.primary == "boundary"
    assert cats.flags == {
        "missing_body": False,
        "background_fp": False,
        "boundary": True,
        "small_person": False,
        "low_light": False,
    }
    assert cats.measures["band_share"] == 1.0
    # 3 rows above the head (80 + 6 wide) and 3 columns on each side of 104 rows
    assert cats.measures["error_share"] == pytest.approx((3 * 86 + 2 * 3 * 104) / 8320)
    # half a pixel of edge error is not a boundary failure
    slight = target.copy()
    slight[40:144, 88] = 0.0
    assert categorize(grey(0.5), slight, target).primary == "ok"


def test_background_blob_is_background_fp():
    target = person()
    pred = target.copy()
    pred[5:35, 5:45] = 1.0  # 1200 px = 3.3 % of the image, far from the person
    cats = categorize(grey(0.5), pred, target)
    assert cats.primary == "background_fp"
    assert cats.measures["fp_image_share"] == pytest.approx(1200 / (H * W))
    assert not cats.flags["missing_body"] and not cats.flags["boundary"]


def test_small_person_and_low_light_conditions():
    tiny = person(rows=(120, 144), cols=(120, 145))  # 600 px = 1.6 % of the image
    cats = categorize(grey(0.5), tiny, tiny)
    assert cats.flags["small_person"] and cats.primary == "small_person"
    assert cats.measures["fg_share"] == pytest.approx(600 / (H * W))
    dark = categorize(grey(0.1), person(), person())
    assert dark.flags["low_light"] and dark.primary == "low_light"
    assert mean_luma(grey(0.1)) == pytest.approx(0.1)
    assert categorize(grey(0.3), person(), person()).primary == "ok"
    # an error category outranks the conditions, which stay flagged
    pred = person()
    pred[80:120, 100:156] = 0.0
    both = categorize(grey(0.1), pred, person())
    assert both.primary == "missing_body" and both.flags["low_light"]
    # an empty frame is no (small) person
    assert not categorize(grey(0.5), np.zeros((H, W)), np.zeros((H, W))).flags["small_person"]


def test_without_reference_only_conditions():
    cats = categorize(grey(0.1), person(rows=(130, 144), cols=(0, 20)), None)
    assert all(cats.flags[name] is None for name in ("missing_body", "background_fp", "boundary"))
    assert cats.flags["small_person"] and cats.flags["low_light"]
    assert cats.primary == "small_person"
    assert primary_category(dict.fromkeys(FLAGS, False)) == "ok"
    with pytest.raises(ValueError, match="same H x W"):
        categorize(grey(0.5), np.zeros((10, 10)), None)


# --- mining ----------------------------------------------------------------------------------

PH, PW = 48, 64  # pool size


def marked_image(i: int, rng: np.random.Generator) -> np.ndarray:
    """A random image whose top-left 8 x 8 red block encodes ``i`` (survives resizing)."""
    image = rng.uniform(0.2, 0.8, (3, PH, PW)).astype(np.float32)
    image[0, :8, :8] = (i + 1) / 100
    return image


def pool_person() -> np.ndarray:
    return person(PH, PW, rows=(12, 48), cols=(20, 44))  # 36 x 24 = 864 px


def holed(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[24:40, 24:40] = 0.0  # 256 px of the body
    return out


class Pool(SegDataset):
    """A few marked images with (optional) masks, ids and an attribute."""

    def __init__(self, n: int, labelled: bool = True) -> None:
        rng = np.random.default_rng(0)
        self.images = [marked_image(i, rng) for i in range(n)]
        self.masks = [pool_person() for _ in range(n)]
        self.labelled = labelled

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        sample = {"image": torch.from_numpy(self.images[i]), "index": i}
        if self.labelled:
            sample["mask"] = torch.from_numpy(self.masks[i])[None]
        return sample

    def sample_ids(self) -> list[str]:
        return [f"pool/img_{i:02d}" for i in range(len(self))]

    def attributes(self) -> list[dict[str, str]]:
        return [{"lighting": "dim" if i % 2 else "bright"} for i in range(len(self))]


class TableBackend:
    """Returns the probability map stored for the image's marker, at the model's input size."""

    kind, layout = "fake", "NCHW"

    def __init__(self, table: dict[int, np.ndarray], height: int, width: int) -> None:
        self.table, self.height, self.width, self.seen = table, height, width, []

    def run(self, batch: np.ndarray) -> np.ndarray:
        assert batch.shape[1:] == (3, self.height, self.width)
        keys = np.rint(batch[:, 0, 0, 0] * 100).astype(int) - 1
        self.seen.extend(keys.tolist())
        maps = [cv2.resize(self.table[int(k)], (self.width, self.height)) for k in keys]
        return np.stack(maps)[:, None].astype(np.float32)

    def timer(self, example=None):
        raise NotImplementedError


def TablePredictor(  # noqa: N802 - reads like the class it stands for
    table: dict[int, np.ndarray], height: int = PH, width: int = PW
) -> Predictor:
    """A :class:`Predictor` on a :class:`TableBackend` (threshold 0.5)."""
    return Predictor(TableBackend(table, height, width), "fake", Path("fake.pt"))


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames), list(reader)


def test_labelled_pool_ranks_the_bad_prediction_first(tmp_path):
    pool = Pool(5)
    table = {i: pool_person() for i in range(5)}
    table[3] = holed(pool_person())
    student = TablePredictor(table)
    badcases = mine(student, pool, batch_size=2)
    assert [b.rank for b in badcases] == [1, 2, 3, 4, 5]
    worst = badcases[0]
    assert (worst.index, worst.id, worst.primary) == (3, "pool/img_03", "missing_body")
    assert worst.iou == pytest.approx(608 / 864)
    assert 0.0 < worst.boundary_f < 1.0
    assert worst.badness == pytest.approx(1 - (worst.iou + worst.boundary_f) / 2)
    assert worst.disagreement is None
    for case in badcases[1:]:
        assert (case.iou, case.boundary_f, case.badness) == (1.0, 1.0, 0.0)
        assert case.primary == "ok"
    assert [b.index for b in badcases[1:]] == [0, 1, 2, 4]  # ties by index
    assert len(mine(student, pool, top=2)) == 2
    assert [b.index for b in mine(student, pool, min_badness=0.01)] == [3]

    summary = write_badcases(badcases, tmp_path / "out", pool, student, command="mine it")
    header, rows = read_rows(tmp_path / "out" / "badcases.csv")
    assert header == [*CSV_COLUMNS, "lighting"]
    assert header[:9] == [
        "rank", "id", "index", "badness", "iou", "boundary_f", "disagreement", "uncertainty",
        "primary",
    ]  # fmt: skip
    assert [r["id"] for r in rows] == [pool.sample_ids()[b.index] for b in badcases]
    first = rows[0]
    assert (first["rank"], first["index"], first["primary"], first["lighting"]) == (
        "1", "3", "missing_body", "dim",
    )  # fmt: skip
    assert float(first["iou"]) == pytest.approx(608 / 864, abs=1e-6)
    assert (first["missing_body"], first["boundary"], first["disagreement"]) == ("1", "0", "")
    assert float(first["uncertainty"]) == 0.0  # a 0/1 map is sure of every pixel
    assert summary["counts"]["primary"] == {c: 0 for c in CATEGORIES} | {
        "missing_body": 1,
        "ok": 4,
    }
    assert summary["command"] == "mine it"
    assert summary["thresholds"]["band_px"] == 5
    sheets = {p.name for p in (tmp_path / "out").glob("sheet_*.png")}
    assert sheets == {"sheet_missing_body.png", "sheet_ok.png"}
    ok_sheet = cv2.imread(str(tmp_path / "out" / "sheet_ok.png"))
    assert ok_sheet.shape == (4 * PH + 3 * 2, 4 * PW + 3 * 2, 3)  # 4 rows of 4 tiles
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["files"]["sheets"]["missing_body"].endswith("sheet_missing_body.png")


def test_unlabelled_pool_ranks_by_teacher_disagreement(tmp_path):
    pool = Pool(4, labelled=False)
    truth = pool_person()
    student = TablePredictor({i: truth for i in range(4)} | {2: holed(truth)})
    # the teacher runs at twice the size: exact 2x nearest up-scaling of the same masks
    big = np.kron(truth, np.ones((2, 2), np.float32))
    teacher = TablePredictor({i: big for i in range(4)}, height=2 * PH, width=2 * PW)
    badcases = mine(student, pool, teacher=teacher)
    assert sorted(teacher.backend.seen) == [0, 1, 2, 3]
    worst = badcases[0]
    assert worst.index == 2
    assert worst.disagreement == pytest.approx(1 - 608 / 864)
    assert worst.badness == worst.disagreement
    assert worst.iou is None and worst.boundary_f is None
    assert worst.primary == "missing_body"  # against the teacher's mask
    assert all(b.disagreement == 0.0 for b in badcases[1:])

    write_badcases(badcases, tmp_path, pool, student, teacher)
    _, rows = read_rows(tmp_path / "badcases.csv")
    assert rows[0]["id"] == "pool/img_02"
    assert rows[0]["iou"] == "" and rows[0]["boundary_f"] == ""
    sheet = cv2.imread(str(tmp_path / "sheet_missing_body.png"))
    assert sheet.shape == (PH, 4 * PW + 3 * 2, 3)  # teacher mask as the reference column


def test_unlabelled_pool_without_teacher_ranks_by_uncertainty(tmp_path):
    pool = Pool(3, labelled=False)
    sure = pool_person() * 0.98 + 0.01
    unsure = np.full((PH, PW), 0.5, np.float32)
    student = TablePredictor({0: sure, 1: unsure, 2: sure})
    badcases = mine(student, pool)
    assert [b.index for b in badcases] == [1, 0, 2]
    assert badcases[0].badness == pytest.approx(1.0)
    assert badcases[1].uncertainty == pytest.approx(binary_entropy_bits(np.array([0.01])))
    assert badcases[0].categories.flags["missing_body"] is None
    summary = write_badcases(badcases, tmp_path, pool, student)
    _, rows = read_rows(tmp_path / "badcases.csv")
    assert rows[0]["missing_body"] == "" and rows[0]["small_person"] == "0"
    assert "uncertainty" in summary["badness"]["unlabelled"]
    sheet = cv2.imread(summary["files"]["sheets"]["ok"])
    assert sheet.shape == (3 * PH + 2 * 2, 2 * PW + 2, 3)  # image | prediction


def test_mine_rejects_bad_arguments():
    student = TablePredictor({0: pool_person()})
    with pytest.raises(ValueError, match="top must be > 0"):
        mine(student, Pool(1), top=0)
    with pytest.raises(ValueError, match="batch_size"):
        mine(student, Pool(1), batch_size=0)


def test_mine_pool_on_tiny_synthetic_pool(tmp_path):
    from seg.eval.data import eval_dataset
    from seg.eval.scoring import score_dataset
    from seg.models import StudentNet
    from seg.models.weights import save_model

    config = {
        "_target_": "seg.models.StudentNet",
        "encoder": "mobilenetv3_small_050",
        "pretrained": False,
        "decoder_channels": 8,
        "refine_channels": 8,
    }
    torch.manual_seed(0)
    net = StudentNet(**{k: v for k, v in config.items() if k != "_target_"})
    weights = save_model(tmp_path / "run" / "student.pt", net, config, {"input_size": [64, 96]})
    overrides = ["data.test.length=6", "data.cache_dir=null"]
    summary, steps = mine_pool(weights, overrides, split="mine")

    out = tmp_path / "run" / "badcases"  # default: next to the weights
    header, rows = read_rows(out / "badcases.csv")
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    assert {"skin_tone", "lighting"} <= set(header)
    assert sorted(r["id"] for r in rows) == [f"mine/{i:06d}" for i in range(6)]
    badness = [float(r["badness"]) for r in rows]
    assert badness == sorted(badness, reverse=True)
    # the same per-image numbers as the evaluation's scoring
    predictor = load_predictor(weights)
    scores, _ = score_dataset(predictor, eval_dataset(predictor, overrides, split="mine"))
    by_id = {s.id: s for s in scores}
    for row in rows:
        score = by_id[row["id"]]
        assert float(row["iou"]) == pytest.approx(score.iou, abs=1e-6)
        assert float(row["boundary_f"]) == pytest.approx(score.boundary_f, abs=1e-6)
        assert float(row["badness"]) == pytest.approx(
            1 - (score.iou + score.boundary_f) / 2, abs=2e-6
        )
    assert sum(summary["counts"]["primary"].values()) == 6
    for category, n in summary["counts"]["primary"].items():
        assert (out / f"sheet_{category}.png").is_file() == (n > 0)
    printed = "\n".join(report_lines(summary, steps))
    assert f"data.badcases={out / 'badcases.csv'}" in printed
    assert (
        "python train.py experiment=attn_distill data.test.length=6 data.cache_dir=null" in printed
    )
    assert "data.badcase_weight=2" in printed


class BrightTeacher(torch.nn.Module):
    """Foreground where the image is bright (no weights)."""

    def forward(self, x: torch.Tensor):
        from seg.models import SegOutput

        return SegOutput(logits=40.0 * (x.mean(dim=1, keepdim=True) - 0.5))


def test_mine_pool_on_unlabelled_image_folder_with_teacher(tmp_path):
    from PIL import Image

    from seg.models.weights import save_model

    pool = tmp_path / "pool"
    for name, box in (("a/one", (20, 80, 40, 80)), ("two", (10, 50, 10, 30))):
        image = np.zeros((80, 120, 3), np.uint8)
        image[box[0] : box[1], box[2] : box[3]] = 255
        (pool / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(pool / f"{name}.png")
    meta = {"input_size": [48, 64]}
    config = {"_target_": f"{__name__}.BrightTeacher"}
    teacher = save_model(tmp_path / "teacher.pt", BrightTeacher(), config, meta)
    student = save_model(tmp_path / "student.pt", BrightTeacher(), config, meta)
    overrides = ["data=images", f"data.root={pool}", "data.cache_dir=null"]
    summary, steps = mine_pool(student, overrides, teacher=teacher)

    _, rows = read_rows(tmp_path / "badcases" / "badcases.csv")
    assert sorted(r["id"] for r in rows) == ["pool/a/one", "pool/two"]
    assert {Path(r["image"]).name for r in rows} == {"one.png", "two.png"}
    for row in rows:  # the same model as student and teacher: full agreement
        assert (row["iou"], row["boundary_f"]) == ("", "")
        assert float(row["disagreement"]) == 0.0 and float(row["badness"]) == 0.0
        assert row["primary"] == "low_light"  # black frames with a white box; no error
    assert summary["retrain_command"] is None
    printed = "\n".join(report_lines(summary, steps))
    assert f"scripts/pseudo_label.py {teacher} {pool} --output {pool}_pseudo" in printed
    assert f"data=folder data.root={pool}_pseudo" in printed
