"""seg.eval (the library of scripts/evaluate.py): per-image scores against hand computations, the attribute
breakdown, torch vs ONNX predictors, clear errors, and the report files of a tiny evaluation."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from helpers import TINY_STUDENT, compose_cfg
from seg.data import SegDataset
from seg.eval.data import eval_dataset
from seg.eval.evaluation import evaluate
from seg.eval.outputs import model_params
from seg.eval.scoring import ImageScore, breakdown, score_dataset, summarize
from seg.inference import Predictor, load_predictor

TINY = dict(TINY_STUDENT)
H, W = 64, 96
NO_CACHE = "data.cache_dir=null"  # render the few frames on the fly, not into data/


def _varied_head(net: torch.nn.Module) -> None:
    """Spread an untrained net's logits around 0 on synthetic frames (it outputs ~0.46
    everywhere otherwise), so its masks are non-trivial and IoUs differ between images."""
    from seg.data.synthetic_dataset import SyntheticPortraitDataset

    frames = SyntheticPortraitDataset(split="calibration", length=4, height=H, width=W)
    x = torch.stack([frames[i]["image"] for i in range(len(frames))])
    with torch.no_grad():
        net.seg_head.weight.mul_(40)
        net.seg_head.bias.sub_(net(x).logits.median())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A folder with a tiny untrained student.pt (input 64x96), the same net as teacher.pt, and
    its ONNX export."""
    from seg.export.onnx import export_onnx
    from seg.models import StudentNet, save_model

    folder = tmp_path_factory.mktemp("tiny_model")
    torch.manual_seed(0)
    net = StudentNet(**{k: v for k, v in TINY.items() if k != "_target_"}).eval()
    _varied_head(net)
    meta = {"input_size": [H, W], "config_hash": "abc123def4567890"}
    save_model(folder / "student.pt", net, TINY, meta)
    save_model(folder / "teacher.pt", net, TINY, meta)
    export_onnx(net, folder / "student.onnx", H, W, exporter="torchscript")
    return folder


class ArrayDataset(SegDataset):
    """Hand-made frames with ids and attributes, like a real seg dataset."""

    def __init__(self, masks: list[np.ndarray | None], attributes: list[dict[str, str]]) -> None:
        self.masks = masks
        self._attributes = attributes

    def __len__(self) -> int:
        return len(self.masks)

    def __getitem__(self, i: int) -> dict:
        h, w = 8, 8
        sample = {"image": torch.full((3, h, w), 0.5), "index": i}
        if self.masks[i] is not None:
            sample["mask"] = torch.from_numpy(self.masks[i][None].astype(np.float32))
        return sample

    def sample_ids(self) -> list[str]:
        return [f"img{i}" for i in range(len(self))]

    def attributes(self) -> list[dict[str, str]]:
        return self._attributes


class Replay:
    """A backend that returns ``probs[k]`` for the k-th frame it is ever given."""

    kind, layout, height, width = "fake", "NCHW", 8, 8

    def __init__(self, probs: np.ndarray) -> None:
        self.probs, self.seen = probs, 0

    def run(self, batch: np.ndarray) -> np.ndarray:
        out = self.probs[self.seen : self.seen + len(batch)]
        self.seen += len(batch)
        return out[:, None]

    def timer(self, example=None):
        raise NotImplementedError


def fixed_predictor(probs: np.ndarray) -> Predictor:
    """A predictor of :class:`Replay` (8 x 8 input, threshold 0.5)."""
    return Predictor(Replay(probs), "fake", Path("fake.pt"))


def test_score_dataset_matches_hand_computation():
    gt_a = np.zeros((8, 8))
    gt_a[2:6, 2:6] = 1  # 16 pixels
    pred_a = np.zeros((8, 8))
    pred_a[2:6, 2:4] = 0.9  # 8 of them, no false positives: IoU 0.5
    soft = np.full((8, 8), 0.25)  # soft target, all background once thresholded at 0.5
    empty = np.zeros((8, 8))
    probs = np.stack([pred_a, np.full((8, 8), 0.25), empty]).astype(np.float32)
    ds = ArrayDataset(
        [gt_a, soft, empty], [{"tone": "A"}, {"tone": "B"}, {"tone": "B", "light": "dim"}]
    )
    scores, kept = score_dataset(
        fixed_predictor(probs), ds, batch_size=2, band_px=0, keep_probs=True
    )

    assert [s.id for s in scores] == ["img0", "img1", "img2"]
    assert scores[0].iou == pytest.approx(0.5)
    assert (scores[0].intersection, scores[0].union) == (8, 16)
    assert scores[0].mae == pytest.approx((8 * 0.1 + 8 * 1.0) / 64)  # hits 0.1, misses 1.0
    assert scores[0].fg_true == pytest.approx(16 / 64) and scores[0].fg_pred == pytest.approx(
        8 / 64
    )
    # band 0: 6 of the 8 predicted edge pixels lie on the 12-pixel ground-truth ring, and 6 of
    # the ring's pixels on the predicted edge: precision 0.75, recall 0.5
    assert scores[0].boundary_f == pytest.approx(2 * 0.75 * 0.5 / 1.25)
    # soft target 0.25 vs prediction 0.25: both empty once thresholded, MAE on the soft values
    assert scores[1].iou == 1.0 and scores[1].boundary_f == 1.0 and scores[1].mae == 0.0
    assert scores[2].iou == 1.0 and scores[2].fg_true == 0.0
    assert scores[2].attributes == {"tone": "B", "light": "dim"}
    np.testing.assert_array_equal(kept, probs)

    overall = summarize(scores)
    assert overall["n"] == 3
    assert overall["iou_mean"] == pytest.approx(2.5 / 3)
    assert overall["iou_pooled"] == pytest.approx(8 / 16)  # empty images add no pixels


def test_score_dataset_unlabelled_split_is_a_clear_error():
    ds = ArrayDataset([np.zeros((8, 8)), None], [{}, {}])
    with pytest.raises(ValueError, match=r"img1 \(index 1\).*unlabelled.*mine_badcases"):
        score_dataset(fixed_predictor(np.zeros((2, 8, 8), np.float32)), ds)


def score(index: int, iou: float, group: str | None, **counts) -> ImageScore:
    attrs = {} if group is None else {"group": group}
    return ImageScore(index, str(index), iou, iou, 1 - iou, 0.3, 0.3, attrs, **counts)


def test_breakdown_worst_best_gap_and_small_groups():
    scores = [score(0, 0.9, "A"), score(1, 0.8, "A"), score(2, 0.6, "B")]
    result = breakdown(scores)["group"]
    assert result["groups"]["A"]["n"] == 2
    assert result["groups"]["A"]["iou_mean"] == pytest.approx(0.85)
    assert result["groups"]["A"]["iou_std"] == pytest.approx(0.05)
    assert result["groups"]["B"]["mae_mean"] == pytest.approx(0.4)
    assert (result["worst"], result["best"]) == ("B", "A")
    assert result["gap"] == pytest.approx(25.0)
    assert result["ratio"] == pytest.approx(0.6 / 0.85)

    small = breakdown(scores, min_group=2)["group"]
    assert small["groups"]["B"]["small"] and small["excluded"] == ["B"]
    assert (small["worst"], small["best"], small["gap"]) == ("A", "A", None)

    missing = breakdown([*scores, score(3, 0.1, None)])["group"]
    assert missing["groups"]["(missing)"]["n"] == 1 and missing["worst"] == "(missing)"
    assert breakdown([score(0, 0.5, None)]) == {}


def test_summarize_reports_mean_and_pooled_iou():
    scores = [
        score(0, 1.0, "A", intersection=10, union=10),
        score(1, 0.0, "A", intersection=0, union=90),
    ]
    overall = summarize(scores)
    assert overall["iou_mean"] == pytest.approx(0.5)
    assert overall["iou_pooled"] == pytest.approx(0.1)
    assert summarize([score(0, 0.7, "A")])["iou_pooled"] is None  # no pixel counts


def test_torch_and_onnx_predictors_agree(tiny):
    torch_p = load_predictor(tiny)  # the folder has no .hydra: student.pt, size from metadata
    onnx_p = load_predictor(tiny / "student.onnx")
    teacher = load_predictor(tiny / "teacher.pt")
    assert (torch_p.kind, torch_p.name, torch_p.path.name) == ("torch", "student", "student.pt")
    assert (onnx_p.kind, teacher.name) == ("onnx", "teacher")
    for p in (torch_p, onnx_p, teacher):
        assert (p.height, p.width, p.threshold, p.run_dir) == (H, W, 0.5, None)
    assert torch_p.params == teacher.params > 0 and onnx_p.params is None
    assert 0 < model_params(onnx_p) <= torch_p.params  # batch norms folded into convolutions
    assert torch_p.metadata["config_hash"] == "abc123def4567890"
    images = np.random.default_rng(0).random((3, 3, H, W), dtype=np.float32)
    a, b = torch_p.predict_batch(images), onnx_p.predict_batch(images)
    assert a.shape == b.shape == (3, 1, H, W) and a.dtype == np.float32
    assert float(np.abs(a - b).max()) < 1e-4
    assert 0.05 < float((a > 0.5).mean()) < 0.95  # a non-trivial mask to score


def test_load_predictor_errors_name_the_path(tmp_path):
    missing = tmp_path / "nope" / "student.pt"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        load_predictor(missing)
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path}: no student.pt"):
        load_predictor(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("hi")
    with pytest.raises(ValueError, match=rf"{text}: unknown model file type"):
        load_predictor(text)
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a graph")
    with pytest.raises(ValueError, match=rf"{bad}: not a loadable ONNX graph"):
        load_predictor(bad)
    bad_pt = tmp_path / "broken.pt"
    bad_pt.write_bytes(b"not weights")
    with pytest.raises(ValueError, match=str(bad_pt)):
        load_predictor(bad_pt)


def test_run_dir_config_sets_size_threshold_and_data(tiny, tmp_path):
    run = tmp_path / "run"
    cfg = compose_cfg(
        f"data.height={H}",
        f"data.width={W}",
        "data.test.length=6",
        "module.threshold=0.4",
        NO_CACHE,
        output_dir=run,
    )
    (run / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, run / ".hydra" / "config.yaml")
    (run / "student.pt").write_bytes((tiny / "student.pt").read_bytes())
    predictor = load_predictor(run)
    assert (predictor.run_dir, predictor.threshold, predictor.height) == (run, 0.4, H)
    assert len(eval_dataset(predictor)) == 6  # the run's own test split
    assert len(eval_dataset(predictor, ["data.val.length=3"], split="val")) == 3
    test = eval_dataset(predictor, ["data.test.length=5"])
    assert len(test) == 5 and tuple(test[0]["image"].shape) == (3, H, W)
    # data=<option> composes configs/train.yaml instead (at the model's size), not the run config
    composed = eval_dataset(predictor, ["data=synthetic", "data.test.length=4", NO_CACHE])
    assert len(composed) == 4 and tuple(composed[0]["image"].shape) == (3, H, W)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_evaluate_writes_report_and_card(tiny, tmp_path):
    from seg.models import load_model

    out = tmp_path / "eval"
    data = ["data.test.length=12", NO_CACHE]
    summary = evaluate(tiny / "student.pt", data, output=out, worst=4, batch_size=5)

    rows = read_csv(out / "per_image.csv")
    assert len(rows) == 12
    assert list(rows[0])[:7] == ["index", "id", "iou", "boundary_f", "mae", "fg_true", "fg_pred"]
    assert {"skin_tone", "lighting", "hair", "scale"} <= set(rows[0])
    assert [int(r["index"]) for r in rows] == list(range(12))
    assert rows[3]["id"] == "test/000003"
    ious = np.array([float(r["iou"]) for r in rows])
    assert ((ious >= 0) & (ious <= 1)).all() and ious.std() > 0

    # one image scored independently: the network itself on the same synthetic frame
    dataset = eval_dataset(load_predictor(tiny), ["data.test.length=12", NO_CACHE])
    sample = dataset[3]
    with torch.no_grad():
        prob = load_model(tiny / "student.pt")(sample["image"][None]).probs[0, 0].numpy()
    pred, gt = prob > 0.5, sample["mask"][0].numpy() >= 0.5
    expected = np.logical_and(pred, gt).sum() / np.logical_or(pred, gt).sum()
    assert float(rows[3]["iou"]) == pytest.approx(expected, abs=2e-3)  # a pixel at most
    assert rows[3]["skin_tone"] == dataset.attributes()[3]["skin_tone"]

    saved = json.loads((out / "summary.json").read_text())
    assert saved["overall"]["n"] == 12
    assert saved["overall"]["iou_mean"] == pytest.approx(ious.mean(), abs=1e-6)
    assert saved["model"]["params"] == summary["model"]["params"] > 0
    assert saved["data"]["split"] == "test" and saved["data"]["config"] == "configs/train.yaml"
    tones = saved["breakdown"]["skin_tone"]
    assert sum(g["n"] for g in tones["groups"].values()) == 12
    worst = tones["worst"]
    assert tones["groups"][worst]["iou_mean"] == min(
        g["iou_mean"] for g in tones["groups"].values()
    )
    latency = saved["latency"]  # student.onnx next to student.pt is timed
    assert latency["measured"] and latency["median_ms"] > 0 and latency["iters"] == 50
    assert latency["graph"].endswith("student.onnx") and latency["cpu"]

    card = (out / "model_card.md").read_text()
    assert "### skin_tone" in card and "| Group | n | Mean IoU ± std |" in card
    assert f"Worst group: **{worst}**" in card
    assert f"gap {tones['gap']:.1f} IoU points" in card
    assert "![worst cases](worst_cases.png)" in card
    assert "abc123def4567890" in card and "Intended use" in card

    import cv2

    sheet = cv2.imread(str(out / "worst_cases.png"))
    assert sheet.shape[0] > 4 * H and sheet.shape[1] == 4 * W + 6  # 4 rows, 4 tiles + gaps


def test_evaluate_onnx_without_latency(tiny, tmp_path):
    out = tmp_path / "eval"
    data = ["data.test.length=6", NO_CACHE]
    summary = evaluate(
        tiny / "student.onnx", data, output=out, latency=False, max_images=5, worst=0
    )
    assert summary["model"]["kind"] == "onnx" and summary["overall"]["n"] == 5
    assert summary["latency"] is None and not (out / "worst_cases.png").exists()
    card = (out / "model_card.md").read_text()
    assert "Not measured (`--no-latency`)" in card and "No worst-case sheet" in card
    assert len(read_csv(out / "per_image.csv")) == 5


def test_train_split_is_scored_without_augmentation(tmp_path):
    from seg.eval.data import eval_dataset

    class Fixed:
        height, width, run_dir = 32, 48, None

    overrides = ["data.train.length=4", f"data.cache_dir={tmp_path}"]
    ds = eval_dataset(Fixed(), overrides, split="train")
    first = [ds[i]["image"] for i in range(4)]
    assert all(torch.equal(a, ds[i]["image"]) for i, a in enumerate(first))  # no random transform


def test_split_all_scores_every_photo_of_a_folder(tiny, tmp_path):
    from data_fixtures import write_folder

    write_folder(tmp_path / "photos", n=9, size=(120, 160))  # 7/1/1 by the default ratio split
    data = ["data=folder", f"data.root={tmp_path / 'photos'}", "data.cache_dir=null"]
    test = evaluate(tiny / "student.pt", data, output=tmp_path / "t", latency=False, worst=0)
    every = evaluate(
        tiny / "student.pt", data, split="all", output=tmp_path / "a", latency=False, worst=0
    )
    assert test["data"]["n"] < 9 and every["data"]["n"] == 9
    assert sorted(r["id"] for r in read_csv(tmp_path / "a" / "per_image.csv")) == [
        f"photos/s{i:02d}" for i in range(9)
    ]


def test_evaluate_on_clips_scores_frames_and_stability(tiny, tmp_path):
    out = tmp_path / "eval"
    summary = evaluate(
        tiny / "student.onnx",
        ["data=clips", NO_CACHE, f"data.height={H}", f"data.width={W}"]
        + ["data.test.length=3", "data.test.frames=4"],
        output=out,
        latency=False,
        worst=2,
    )
    assert summary["overall"]["n"] == 12  # 3 clips x 4 frames, each scored like an image
    temporal = summary["temporal"]
    assert temporal["clips"] == 3 and temporal["frames"] == 12
    assert set(temporal["by_motion"]) == {"still", "turn_slow", "turn_fast"}
    with open(out / "per_clip.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == [
        "test/clip0000-still",
        "test/clip0001-turn_slow",
        "test/clip0002-turn_fast",
    ]
    dtssd = np.mean([float(r["dtssd"]) for r in rows])
    assert temporal["dtssd"] == pytest.approx(dtssd, abs=1e-5) and dtssd >= 0
    assert all(0.0 <= float(r["tc"]) <= 1.0 for r in rows)
    with open(out / "per_image.csv") as f:
        frame_ids = [r["id"] for r in csv.DictReader(f)]
    assert frame_ids[:2] == ["test/clip0000-still/000", "test/clip0000-still/001"]
    card = (out / "model_card.md").read_text()
    assert "## Stability on video" in card and "| still | 1 |" in card
    assert (out / "worst_cases.png").exists()


def test_evaluate_video_reports_label_free_stability(tiny, tmp_path):
    import cv2

    from seg.eval.video_eval import evaluate_video
    from seg.postprocess import load_postprocess

    video = tmp_path / "call.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 15, (W, H))
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (H, W, 3)).astype(np.float32)
    for _ in range(6):  # one still scene under strong sensor noise: the masks flicker
        noisy = base + rng.normal(0, 30, base.shape)
        writer.write(np.clip(noisy, 0, 255).astype(np.uint8))
    writer.release()
    raw = evaluate_video(tiny / "student.onnx", video, output=tmp_path / "raw")
    assert raw["frames"] == 6 and raw["postprocess"] is None
    assert raw["flicker"] > 0 and 0.0 <= raw["flip_rate"] <= 1.0 and 0.0 <= raw["tc"] <= 1.0
    saved = json.loads((tmp_path / "raw" / "summary.json").read_text())
    assert saved["flicker"] == pytest.approx(raw["flicker"])
    # a strong EMA keeps most of the previous alpha: the masks flicker less
    ema = load_postprocess("none", ["temporal.mode=ema", "temporal.weight=0.2"])
    smooth = evaluate_video(tiny / "student.onnx", video, output=tmp_path / "ema", postprocess=ema)
    assert smooth["flicker"] < 0.5 * raw["flicker"]
    with pytest.raises(Exception, match="nothing.mp4"):
        evaluate_video(tiny / "student.onnx", tmp_path / "nothing.mp4")
