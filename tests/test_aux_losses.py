"""Edge and temporal-consistency losses: zero / small for matching inputs, positive with finite
gradients otherwise, hand values, NaN handling, and the perturbation's range, reproducibility and
alignment convention."""

import math

import pytest
import torch

from seg.losses.edge import EdgeLoss, edge_target
from seg.losses.temporal import (
    ConsistencyPerturbation,
    TemporalConsistencyLoss,
    affine_warp,
    warp_with_validity,
)

NO_PHOTOMETRIC = dict(brightness=0.0, contrast=0.0, saturation=0.0, noise_std=0.0, blur_prob=0.0)
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def blob_mask(h: int = 48, w: int = 80, cy: float = 22.0, cx: float = 34.0) -> torch.Tensor:
    """1 x 1 x H x W ellipse (semi-axes 10 and 16 px) at pixel centre (cy, cx)."""
    y, x = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    return (((y - cy) / 10) ** 2 + ((x - cx) / 16) ** 2 <= 1).float()[None, None]


def iou(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a & b).sum() / (a | b).sum()).item()


# ---------------------------------------------------------------- edge


def test_edge_target_hand_value():
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 0, 0] = 1  # one pixel in the corner
    # dilation (radius 1) covers the top-left 2x2 block, erosion removes the pixel entirely
    expected = torch.zeros(1, 1, 4, 4)
    expected[..., :2, :2] = 1
    assert torch.equal(edge_target(mask, 1), expected)
    # left half: the band is the columns either side of the edge, none along the image border
    half = torch.zeros(1, 1, 4, 4)
    half[..., :2] = 1
    expected = torch.zeros(1, 1, 4, 4)
    expected[..., 1:3] = 1
    assert torch.equal(edge_target(half, 1), expected)
    # empty and full masks have no edge; wider band, same shape, {0, 1}
    assert edge_target(torch.zeros(2, 1, 5, 5), 2).sum() == 0
    assert edge_target(torch.ones(2, 1, 5, 5), 2).sum() == 0
    wide = edge_target(blob_mask(), 3)
    assert wide.shape == (1, 1, 48, 80) and set(wide.unique().tolist()) == {0.0, 1.0}


def test_edge_balanced_hand_value():
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 0, 0] = 1  # edge target: the top-left 2x2 block, 4 of 16 pixels
    target = edge_target(mask, 1)
    logits = torch.where(target > 0, 1.0, -1.0)
    logits[..., 3, 3] = 2.0  # one badly wrong background pixel
    a, b = math.log1p(math.exp(-1.0)), math.log1p(math.exp(2.0))
    # positives weighted by the negative fraction 0.75, negatives by 0.25, divided by the weight sum
    expected = (0.75 * 4 * a + 0.25 * (11 * a + b)) / (0.75 * 4 + 0.25 * 12)
    assert EdgeLoss(band_px=1)(logits, mask).item() == pytest.approx(expected, rel=1e-6)
    # = the mean of the two class means
    assert expected == pytest.approx(0.5 * (a + (11 * a + b) / 12))
    # unbalanced: plain BCE, optionally with a fixed pos_weight
    plain = EdgeLoss(band_px=1, balanced=False)(logits, mask).item()
    assert plain == pytest.approx((4 * a + 11 * a + b) / 16, rel=1e-6)
    weighted = EdgeLoss(band_px=1, balanced=False, pos_weight=3.0)(logits, mask).item()
    assert weighted == pytest.approx((3 * 4 * a + 11 * a + b) / 16, rel=1e-6)


def test_edge_balanced_scale_and_empty_image():
    # uniform per-pixel BCE c gives c, as plain BCE does: log 2 for zero logits
    mask = blob_mask().repeat(2, 1, 1, 1)
    mask[1] = 0  # second image: no edge pixel at all
    logits = torch.zeros_like(mask, requires_grad=True)
    value = EdgeLoss()(logits, mask)
    assert value.item() == pytest.approx(math.log(2.0), rel=1e-6)
    value.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    empty = EdgeLoss()(torch.randn(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))
    assert torch.isfinite(empty)


def test_edge_decreases_towards_target_and_near_zero_when_perfect():
    mask = blob_mask()
    sign = edge_target(mask, 2) * 2 - 1
    loss = EdgeLoss(band_px=2)
    values = [loss(sign * margin, mask).item() for margin in (-2.0, 0.0, 2.0, 6.0)]
    assert values == sorted(values, reverse=True)
    assert loss(sign * 20.0, mask).item() < 1e-3
    assert EdgeLoss(band_px=2, balanced=False)(sign * 20.0, mask).item() < 1e-3


def test_edge_positive_with_finite_gradient():
    torch.manual_seed(0)
    logits = torch.randn(2, 1, 48, 80, requires_grad=True)
    value = EdgeLoss()(logits, blob_mask().repeat(2, 1, 1, 1))
    assert value.item() > 0
    value.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_edge_rejects_bad_args_and_shapes():
    with pytest.raises(ValueError, match="band_px"):
        EdgeLoss(band_px=0)
    with pytest.raises(ValueError, match="band_px"):
        edge_target(torch.zeros(1, 1, 4, 4), 0)
    with pytest.raises(ValueError, match="pos_weight"):
        EdgeLoss(balanced=False, pos_weight=-1.0)
    with pytest.raises(ValueError, match="pos_weight"):
        EdgeLoss(balanced=True, pos_weight=2.0)
    with pytest.raises(ValueError, match=r"\(1, 1, 8, 8\).*\(1, 1, 16, 16\)"):
        EdgeLoss()(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 16, 16))


# ---------------------------------------------------------------- temporal loss


@pytest.mark.parametrize("distance", ["mse", "l1"])
def test_temporal_zero_for_identical_and_positive_otherwise(distance):
    torch.manual_seed(0)
    x = torch.randn(2, 1, 8, 12)
    loss = TemporalConsistencyLoss(distance)
    assert loss(x, x.clone()).item() == 0.0
    pred = torch.randn(2, 1, 8, 12, requires_grad=True)
    target = torch.randn(2, 1, 8, 12, requires_grad=True)
    value = loss(pred, target)
    assert value.item() > 0
    value.backward()
    for t in (pred, target):  # both sides get gradients by default
        assert torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0


def test_temporal_hand_value_and_detach():
    pred = torch.zeros(1, 1, 1, 2, requires_grad=True)  # p = 0.5
    target = torch.full((1, 1, 1, 2), math.log(3.0), requires_grad=True)  # p = 0.75
    assert TemporalConsistencyLoss("mse")(pred, target).item() == pytest.approx(0.0625)
    assert TemporalConsistencyLoss("l1")(pred, target).item() == pytest.approx(0.25)
    TemporalConsistencyLoss(detach_target=True)(pred, target).backward()
    assert pred.grad is not None and target.grad is None


@pytest.mark.parametrize("distance", ["mse", "l1"])
def test_temporal_ignores_nan_pixels(distance):
    torch.manual_seed(1)
    pred = torch.randn(2, 1, 6, 7, requires_grad=True)
    raw = torch.randn(2, 1, 6, 7, requires_grad=True)
    invalid = torch.rand(2, 1, 6, 7) < 0.4
    target = raw.masked_fill(invalid, float("nan"))
    loss = TemporalConsistencyLoss(distance)
    value = loss(pred, target)
    diff = torch.sigmoid(pred[~invalid]) - torch.sigmoid(raw[~invalid])
    expected = diff.pow(2).mean() if distance == "mse" else diff.abs().mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)
    value.backward()
    assert torch.isfinite(pred.grad).all() and torch.isfinite(raw.grad).all()
    assert (pred.grad[invalid] == 0).all() and (raw.grad[invalid] == 0).all()
    assert pred.grad[~invalid].abs().sum() > 0


def test_temporal_all_nan_gives_connected_zero():
    pred = torch.randn(1, 1, 4, 4, requires_grad=True)
    value = TemporalConsistencyLoss()(pred, torch.full((1, 1, 4, 4), float("nan")))
    assert value.item() == 0.0 and value.grad_fn is not None
    value.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_temporal_rejects_bad_args_and_shapes():
    with pytest.raises(ValueError, match="distance"):
        TemporalConsistencyLoss("l2")
    with pytest.raises(ValueError, match="shape"):
        TemporalConsistencyLoss()(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))


# ---------------------------------------------------------------- warps


def test_warp_with_validity_marks_outside_as_nan_with_finite_grads():
    x = torch.randn(1, 1, 8, 16, requires_grad=True)
    identity = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    assert torch.allclose(warp_with_validity(x, identity), x, atol=1e-5)
    shift = identity.clone()
    shift[0, 0, 2] = 0.5  # output x samples input x + W/4: the right quarter falls outside
    warped = warp_with_validity(x, shift)
    assert torch.isnan(warped[..., 12:]).all() and torch.isfinite(warped[..., :12]).all()
    assert torch.allclose(warped[..., :12], x[..., 4:], atol=1e-5)
    value = TemporalConsistencyLoss()(torch.zeros(1, 1, 8, 16, requires_grad=True), warped)
    value.backward()
    assert torch.isfinite(x.grad).all() and x.grad[..., 4:].abs().sum() > 0
    assert (x.grad[..., :4] == 0).all()
    with pytest.raises(ValueError, match="theta"):
        affine_warp(x, torch.zeros(2, 2, 3))
    with pytest.raises(ValueError, match="padding_mode"):
        affine_warp(x, identity, padding_mode="wrap")


# ---------------------------------------------------------------- perturbation


@pytest.mark.parametrize("device", DEVICES)
def test_perturbation_shapes_range_and_reproducible(device):
    torch.manual_seed(0)
    images = torch.rand(4, 3, 32, 48, device=device)
    perturb = ConsistencyPerturbation(blur_prob=1.0)
    torch.manual_seed(7)
    out, theta = perturb(images)
    assert out.shape == images.shape and theta.shape == (4, 2, 3)
    assert out.device == images.device and theta.device == images.device
    assert out.min() >= 0 and out.max() <= 1 and not out.requires_grad
    assert not torch.allclose(out, images)
    assert not torch.allclose(theta[0], theta[1])  # one draw per image
    torch.manual_seed(7)
    out2, theta2 = perturb(images)
    assert torch.equal(out, out2) and torch.equal(theta, theta2)


def test_perturbation_identity_returns_input():
    torch.manual_seed(0)
    images = torch.rand(2, 3, 20, 36)
    perturb = ConsistencyPerturbation(
        max_translate=0, max_rotate_deg=0, max_scale=0, **NO_PHOTOMETRIC
    )
    out, theta = perturb(images)
    assert torch.allclose(theta, torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).expand(2, 2, 3))
    assert torch.allclose(out, images, atol=1e-5)
    # blur with sigma -> 0 is a delta as well
    perturb = ConsistencyPerturbation(0, 0, 0, 0, 0, 0, 0, blur_prob=1.0, blur_sigma=1e-4)
    assert torch.allclose(perturb(images)[0], images, atol=1e-5)


def test_perturbation_theta_aligns_prediction_with_perturbed_image():
    torch.manual_seed(3)
    h, w = 48, 80
    mask = blob_mask(h, w).repeat(4, 1, 1, 1)
    colour = torch.tensor([0.9, 0.6, 0.2]).view(1, 3, 1, 1)
    images = mask * colour + (1 - mask) * 0.1
    perturb = ConsistencyPerturbation(
        max_translate=0.1, max_rotate_deg=20.0, max_scale=0.15, **NO_PHOTOMETRIC
    )
    perturbed, theta = perturb(images)
    # a "prediction" on the perturbed image vs the clean mask warped with the same theta
    seen = perturbed.mean(1, keepdim=True) > (0.1 + colour.mean()) / 2
    warped = affine_warp(mask, theta) > 0.5
    for i in range(4):
        assert iou(seen[i], warped[i]) > 0.95
    # the documented convention, independently of grid_sample: output pixel p samples theta @ p
    ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    xn, yn = (2 * xs + 1) / w - 1, (2 * ys + 1) / h - 1
    for i in range(4):
        a = theta[i]
        xin = ((a[0, 0] * xn + a[0, 1] * yn + a[0, 2] + 1) * w - 1) / 2
        yin = ((a[1, 0] * xn + a[1, 1] * yn + a[1, 2] + 1) * h - 1) / 2
        analytic = ((yin - 22.0) / 10) ** 2 + ((xin - 34.0) / 16) ** 2 <= 1
        assert iou(analytic[None], warped[i]) > 0.95
        # pixel-space linear part is scale x rotation, also for a non-square image
        pix = (
            torch.diag(torch.tensor([w / 2, h / 2]))
            @ a[:, :2]
            @ torch.diag(torch.tensor([2 / w, 2 / h]))
        )
        gram = pix @ pix.T
        assert torch.allclose(gram, gram[0, 0] * torch.eye(2), atol=1e-5)
        assert 0.85**2 - 1e-5 <= gram[0, 0] <= 1.15**2 + 1e-5


def test_perturbation_rejects_bad_args():
    for kwargs, name in [
        ({"max_translate": -0.1}, "max_translate"),
        ({"max_rotate_deg": 200.0}, "max_rotate_deg"),
        ({"max_scale": 1.0}, "max_scale"),
        ({"brightness": 1.5}, "brightness"),
        ({"contrast": -0.1}, "contrast"),
        ({"saturation": 2.0}, "saturation"),
        ({"noise_std": -0.01}, "noise_std"),
        ({"blur_prob": 1.5}, "blur_prob"),
        ({"blur_sigma": -1.0}, "blur_sigma"),
    ]:
        with pytest.raises(ValueError, match=name):
            ConsistencyPerturbation(**kwargs)
    with pytest.raises(ValueError, match="B x 3 x H x W"):
        ConsistencyPerturbation()(torch.rand(1, 1, 8, 8))


def test_losses_exported():
    import seg.losses as losses

    for name in (
        "EdgeLoss",
        "edge_target",
        "TemporalConsistencyLoss",
        "ConsistencyPerturbation",
        "affine_warp",
        "warp_with_validity",
    ):
        assert name in losses.__all__ and hasattr(losses, name)
