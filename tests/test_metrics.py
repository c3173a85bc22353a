import pytest
import torch

from seg.metrics import BoundaryFScore, boundary, per_image_boundary_f, segmentation_metrics


def square(h=32, w=32, top=8, left=8, size=16):
    m = torch.zeros(1, 1, h, w)
    m[..., top : top + size, left : left + size] = 1.0
    return m


def test_boundary_is_one_pixel_ring_and_ignores_frame_border():
    m = square()
    b = boundary(m)
    assert b.sum().item() == 4 * 16 - 4  # perimeter of a 16x16 square
    full = torch.ones(1, 1, 8, 8)
    assert boundary(full).sum().item() == 0  # person filling the frame has no edge at the border


def test_boundary_f_perfect_shifted_and_empty():
    gt = square()
    assert per_image_boundary_f(gt, gt, band_px=0).item() == pytest.approx(1.0)
    shifted = square(left=10)  # 2 px shift
    f0 = per_image_boundary_f(shifted, gt, band_px=0).item()
    f2 = per_image_boundary_f(shifted, gt, band_px=2).item()
    assert f0 < 0.6 and f2 == pytest.approx(1.0)
    empty = torch.zeros_like(gt)
    assert per_image_boundary_f(empty, empty, band_px=3).item() == 1.0
    assert per_image_boundary_f(empty, gt, band_px=3).item() == 0.0


def test_boundary_f_hand_value():
    # GT ring: 60 px. Prediction: the square shifted right by 1, band 0.
    gt, pred = square(), square(left=9)
    pb, gb = boundary(pred), boundary(gt)
    precision = (pb * gb).sum() / pb.sum()
    recall = (gb * pb).sum() / gb.sum()
    expected = (2 * precision * recall / (precision + recall)).item()
    assert per_image_boundary_f(pred, gt, band_px=0).item() == pytest.approx(expected)


def test_metric_accumulates_per_image_mean():
    metric = BoundaryFScore(band_px=0)
    gt = square()
    metric.update(gt, gt)  # 1.0
    metric.update(torch.zeros_like(gt), gt)  # 0.0
    assert metric.compute().item() == pytest.approx(0.5)


def test_segmentation_metrics_keys_and_values():
    metrics = segmentation_metrics("val/")
    gt = square()
    probs = gt * 0.9 + 0.05
    metrics.update(probs, gt)
    values = metrics.compute()
    assert set(values) == {"val/iou", "val/boundary_f", "val/mae"}
    assert values["val/iou"].item() == pytest.approx(1.0)
    assert values["val/mae"].item() == pytest.approx(0.05, rel=1e-4)
    metrics.reset()
    half = square(size=16, left=16)  # overlaps gt on 8 of 16 columns: IoU = 128 / 384
    metrics.update(half, gt)
    assert metrics.compute()["val/iou"].item() == pytest.approx(128 / 384, rel=1e-5)
