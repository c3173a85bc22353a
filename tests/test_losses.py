import math

import pytest
import torch

from seg.losses import (
    AttentionKD,
    BCELoss,
    Criterion,
    DiceLoss,
    FeatureKDTerm,
    FocalLoss,
    LossTerm,
)
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
    losses = crit({"student": out, "batch": batch})
    assert set(losses) == {"loss_bce", "loss"}
    assert losses["loss_bce"].item() == pytest.approx(2 * math.log(2), rel=1e-6)
    assert losses["loss"].item() == pytest.approx(losses["loss_bce"].item())


def test_criterion_errors_name_the_missing_piece():
    out = SegOutput(logits=torch.zeros(1, 1, 2, 2), edge_logits=None)
    with pytest.raises(ValueError, match="edge_logits"):
        Criterion({"edge": LossTerm(BCELoss(), pred="student.edge_logits", target="batch.edge")})(
            {"student": out, "batch": {"edge": torch.zeros(1, 1, 2, 2)}}
        )
    with pytest.raises(KeyError, match="no entry 'edge'"):
        Criterion({"bce": LossTerm(BCELoss(), target="batch.edge")})(
            {"student": out, "batch": {"mask": torch.zeros(1, 1, 2, 2)}}
        )
    with pytest.raises(KeyError, match="teacher=offline"):
        Criterion({"kd": LossTerm(BCELoss(), target="teacher.logits")})(
            {"student": out, "batch": {}}
        )
    with pytest.raises(ValueError, match="at least one"):
        Criterion({"bce": LossTerm(BCELoss(), weight=0.0)})
    with pytest.raises(ValueError, match="<source>.<field>"):
        LossTerm(BCELoss(), pred="logits")
    with pytest.raises(ValueError, match="perturbation"):
        Criterion({"t": LossTerm(BCELoss(), pred="perturbed.logits", target="warped.logits")})


def test_feature_kd_term_pairs_by_stride_with_a_weight_each():
    torch.manual_seed(0)
    student = {s: torch.randn(2, 8, 64 // s, 64 // s, requires_grad=True) for s in (4, 8, 16)}
    teacher = {s: torch.randn(2, 32, 64 // s, 64 // s) for s in (4, 8, 16, 32)}
    sources = {
        "student": SegOutput(torch.zeros(2, 1, 64, 64), features=student),
        "teacher": SegOutput(torch.zeros(2, 1, 64, 64), features=teacher),
    }
    at = AttentionKD()
    term = FeatureKDTerm(at, strides={"4": 0.0, "8": 2.0, "16": 1.0}, weight=0.5)
    assert term.strides == {8: 2.0, 16: 1.0}  # zero-weight strides are skipped; keys become ints
    expected = 0.5 * (2 * at(student[8], teacher[8]) + at(student[16], teacher[16]))
    value = term(sources)
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)
    value.backward()
    assert student[4].grad is None and student[8].grad.abs().sum() > 0
    with pytest.raises(KeyError, match="stride 32: the student has strides \\[4, 8, 16\\]"):
        FeatureKDTerm(at, strides={32: 1.0})(sources)
    with pytest.raises(ValueError, match="at least one weight > 0"):
        FeatureKDTerm(at, strides={8: 0.0})
