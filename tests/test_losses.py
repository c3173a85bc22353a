import math

import pytest
import torch

from seg.losses import BCELoss, Criterion, DiceLoss, FocalLoss, LossTerm
from seg.models.contract import SegOutput


def test_bce_matches_hand_computation():
    logits = torch.tensor([[[[0.0, 2.0]]]])
    target = torch.tensor([[[[1.0, 0.0]]]])
    # -log(sigmoid(0)) = log 2 ; -log(1 - sigmoid(2)) = log(1 + e^2)
    expected = (math.log(2) + math.log(1 + math.e**2)) / 2
    assert BCELoss()(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_bce_pos_weight_weights_foreground():
    logits = torch.zeros(1, 1, 1, 2)
    target = torch.tensor([[[[1.0, 0.0]]]])
    assert BCELoss(pos_weight=3.0)(logits, target).item() == pytest.approx(
        2 * math.log(2), rel=1e-6
    )


def test_dice_zero_for_perfect_and_hand_value():
    target = torch.tensor([[[[1.0, 1.0, 0.0, 0.0]]]])
    perfect = (target * 2 - 1) * 50
    assert DiceLoss(smooth=0.0)(perfect, target).item() == pytest.approx(0.0, abs=1e-6)
    half = torch.zeros(1, 1, 1, 4)  # p = 0.5 everywhere: 1 - 2*1/(2+2) = 0.5
    assert DiceLoss(smooth=0.0)(half, target).item() == pytest.approx(0.5, rel=1e-6)


def test_dice_is_per_image_mean():
    t = torch.zeros(2, 1, 2, 2)
    t[0] = 1.0
    logits = torch.full((2, 1, 2, 2), -50.0)  # predicts background everywhere
    # image 0: dice loss 1 (missed everything); image 1: empty vs empty -> 1 - smooth/smooth = 0
    assert DiceLoss(smooth=1.0)(logits, t).item() == pytest.approx((1 - 1 / 5 + 0.0) / 2, rel=1e-5)


def test_focal_reduces_to_bce_at_gamma_zero_and_downweights_easy_pixels():
    logits = torch.randn(2, 1, 8, 8)
    target = (torch.rand(2, 1, 8, 8) > 0.5).float()
    assert FocalLoss(gamma=0.0)(logits, target).item() == pytest.approx(
        BCELoss()(logits, target).item(), rel=1e-6
    )
    assert FocalLoss(gamma=2.0)(logits, target).item() < BCELoss()(logits, target).item()
    with pytest.raises(ValueError, match="gamma"):
        FocalLoss(gamma=-1)


def test_losses_reject_shape_mismatch():
    with pytest.raises(ValueError, match="shapes differ"):
        BCELoss()(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))


def test_losses_have_gradients():
    logits = torch.randn(2, 1, 6, 6, requires_grad=True)
    target = (torch.rand(2, 1, 6, 6) > 0.5).float()
    for loss in (BCELoss(), DiceLoss(), FocalLoss()):
        logits.grad = None
        loss(logits, target).backward()
        assert logits.grad is not None and logits.grad.abs().sum() > 0


def test_criterion_weights_logs_each_term_and_skips_zero_weight():
    out = SegOutput(logits=torch.zeros(1, 1, 2, 2))
    batch = {"mask": torch.ones(1, 1, 2, 2)}
    crit = Criterion(
        {
            "bce": LossTerm(BCELoss(), weight=2.0),
            "dice": LossTerm(DiceLoss(smooth=0.0), weight=0.0),
        }
    )
    losses = crit(out, batch)
    assert set(losses) == {"loss_bce", "loss"}
    assert losses["loss_bce"].item() == pytest.approx(2 * math.log(2), rel=1e-6)
    assert losses["loss"].item() == pytest.approx(losses["loss_bce"].item())


def test_criterion_errors_name_the_missing_piece():
    out = SegOutput(logits=torch.zeros(1, 1, 2, 2), edge_logits=None)
    with pytest.raises(ValueError, match="edge_logits"):
        Criterion({"edge": LossTerm(BCELoss(), pred="edge_logits", target="edge")})(
            out, {"edge": torch.zeros(1, 1, 2, 2)}
        )
    with pytest.raises(KeyError, match="edge"):
        Criterion({"bce": LossTerm(BCELoss(), target="edge")})(
            out, {"mask": torch.zeros(1, 1, 2, 2)}
        )
    with pytest.raises(ValueError, match="at least one"):
        Criterion({"bce": LossTerm(BCELoss(), weight=0.0)})
