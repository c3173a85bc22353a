"""Distillation losses: zero for identical inputs, positive with gradients otherwise, hand values,
different student/teacher widths and sizes, and no gradient into the teacher."""

import math

import pytest
import torch
import torch.nn.functional as F

from seg.losses.distill import AffinityKD, AttentionKD, PixelwiseKD, affinity_matrix

LOSSES = [
    (PixelwiseKD(temperature=2.0), (2, 1, 8, 12), (2, 1, 8, 12)),
    (AttentionKD(), (2, 16, 8, 12), (2, 64, 8, 12)),
    (AffinityKD(grid=(3, 4)), (2, 16, 8, 12), (2, 64, 8, 12)),
]


@pytest.mark.parametrize("loss", [case[0] for case in LOSSES], ids=lambda m: type(m).__name__)
def test_zero_for_identical_inputs(loss):
    x = torch.randn(2, 1 if isinstance(loss, PixelwiseKD) else 8, 8, 12)
    assert loss(x, x.clone()).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("loss,s_shape,t_shape", LOSSES, ids=lambda v: type(v).__name__)
def test_positive_with_gradient_to_student_only(loss, s_shape, t_shape):
    torch.manual_seed(0)
    student = torch.randn(s_shape, requires_grad=True)
    teacher = torch.randn(t_shape, requires_grad=True)
    value = loss(student, teacher)
    assert value.item() > 0
    value.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None  # the teacher is detached inside the loss


def test_pixelwise_hand_value():
    s, t = torch.tensor([[[[0.0]]]]), torch.tensor([[[[math.log(3.0)]]]])  # p_s = 0.5, p_t = 0.75
    expected = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert PixelwiseKD(temperature=1.0)(s, t).item() == pytest.approx(expected, rel=1e-6)
    # temperature T: logits divided by T, loss scaled by T^2
    s2, t2 = s * 2, t * 2
    assert PixelwiseKD(temperature=2.0)(s2, t2).item() == pytest.approx(4 * expected, rel=1e-6)


def test_pixelwise_equals_soft_bce_minus_entropy():
    torch.manual_seed(1)
    s, t = torch.randn(2, 1, 5, 7), torch.randn(2, 1, 5, 7)
    p_t = torch.sigmoid(t)
    bce = F.binary_cross_entropy_with_logits(s, p_t)
    entropy = F.binary_cross_entropy_with_logits(t, p_t)
    assert PixelwiseKD()(s, t).item() == pytest.approx((bce - entropy).item(), rel=1e-5)


def test_pixelwise_resizes_teacher_and_rejects_channel_mismatch():
    s = torch.zeros(1, 1, 8, 8)
    assert PixelwiseKD()(s, torch.zeros(1, 1, 16, 16)).item() == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(ValueError, match="channels"):
        PixelwiseKD()(s, torch.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match="temperature"):
        PixelwiseKD(temperature=0)


def test_attention_hand_value():
    # one channel, 2 positions: maps |F|^2 = [1, 0] and [0, 1] -> normalised, distance^2 = 2
    s = torch.tensor([[[[1.0, 0.0]]]])
    t = torch.tensor([[[[0.0, 1.0]]]])
    assert AttentionKD()(s, t).item() == pytest.approx(2.0)
    # channel-agnostic: the same spatial energy spread over more channels gives zero
    t_wide = torch.cat([s, s, s], dim=1)
    assert AttentionKD()(s, t_wide).item() == pytest.approx(0.0, abs=1e-7)


def test_attention_handles_different_sizes():
    s = torch.randn(2, 8, 18, 32)
    t = torch.randn(2, 32, 9, 16)
    assert AttentionKD()(s, t).item() > 0


def test_affinity_hand_value_and_bounded_size():
    # 2 positions: student vectors orthogonal (affinity 0), teacher parallel (affinity 1)
    s = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])  # B=1, C=2, H=1, W=2
    t = torch.tensor([[[[1.0, 1.0]], [[0.0, 0.0]]]])
    # matrices differ only off the diagonal: (0 - 1)^2 twice over 4 entries
    assert AffinityKD(grid=(1, 2))(s, t).item() == pytest.approx(0.5)
    big = torch.randn(1, 8, 72, 128)
    assert affinity_matrix(big, (9, 16)).shape == (1, 144, 144)  # N from the grid, not 72*128


def test_affinity_channel_agnostic_and_bad_grid():
    s = torch.randn(2, 4, 12, 20)
    t = torch.cat([s, 2 * s], dim=1)  # same directions per position, more channels
    assert AffinityKD(grid=(3, 5))(s, t).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="grid"):
        AffinityKD(grid=(0, 4))


def test_affinity_never_pools_a_small_map_up():
    # a stride-32 map of a 144x256 input is 5x8: smaller than the 9x16 grid, it keeps its 40
    # positions instead of being repeated up to 144 (same information, 13x the cost)
    features = torch.randn(2, 4, 5, 8)
    assert affinity_matrix(features, (9, 16)).shape == (2, 40, 40)
    assert affinity_matrix(torch.randn(2, 4, 18, 32), (9, 16)).shape == (2, 144, 144)
    assert affinity_matrix(torch.randn(2, 4, 5, 32), (9, 16)).shape == (2, 80, 80)
    # student and teacher maps of different sizes share one grid, no finer than the smaller map
    kd = AffinityKD((9, 16))
    assert torch.isfinite(kd(torch.randn(2, 4, 5, 8), torch.randn(2, 16, 10, 16)))
