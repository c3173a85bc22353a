"""A short real training run learns: the loss falls and IoU climbs above a floor."""

import csv
import json

import pytest

from helpers import compose_cfg


def epoch_means(csv_path, column):
    sums, counts = {}, {}
    with open(csv_path) as f:
        for row in csv.DictReader(f):
            if row.get(column):
                epoch = int(row["epoch"])
                sums[epoch] = sums.get(epoch, 0.0) + float(row[column])
                counts[epoch] = counts.get(epoch, 0) + 1
    return [sums[e] / counts[e] for e in sorted(sums)]


def test_student_learns_on_synthetic_portraits(tmp_path):
    from seg.pipeline import run

    cfg = compose_cfg(
        "experiment=student",
        "data.height=96",
        "data.width=160",
        "data.train.length=256",
        "data.val.length=48",
        "data.test.length=48",
        "data.batch_size=8",
        "data.num_workers=0",
        "trainer.max_epochs=4",
        "+trainer.enable_progress_bar=false",
        "+trainer.enable_model_summary=false",
        "callbacks.progress_bar=null",
        "callbacks.model_summary=null",
        "optim.optimizer.lr=0.003",
        f"paths.cache_dir={tmp_path / 'cache'}",
        output_dir=tmp_path / "run",
    )
    metrics = run(cfg).metrics

    losses = epoch_means(tmp_path / "run" / "csv" / "metrics.csv", "train/loss_step")
    assert len(losses) == 4
    assert losses[-1] < 0.8 * losses[0], f"training loss did not fall: {losses}"
    ious = epoch_means(tmp_path / "run" / "csv" / "metrics.csv", "val/iou")
    assert ious[-1] > ious[0]
    assert metrics["val/iou"] > 0.55, metrics
    assert metrics["test/iou"] > 0.55, metrics
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["test/iou"] == pytest.approx(
        metrics["test/iou"]
    )
