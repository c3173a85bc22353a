import pytest
import torch

from seg.optim import warmup_cosine, warmup_poly


def lrs(factory, steps=100, **kw):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = factory(opt, total_steps=steps, **kw)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("factory", [warmup_cosine, warmup_poly])
def test_warmup_then_decay(factory):
    values = lrs(factory, warmup_fraction=0.1)
    assert values[0] == pytest.approx(0.1)  # (0 + 1) / 10 warm-up steps
    assert values[9] == pytest.approx(1.0)
    assert max(values) == pytest.approx(1.0)
    assert all(
        a >= b - 1e-12 for a, b in zip(values[10:], values[11:], strict=False)
    )  # monotone decay
    assert values[-1] < 0.05


def test_cosine_floor_and_bad_args():
    values = lrs(warmup_cosine, warmup_fraction=0.0, min_lr_ratio=0.1)
    assert values[0] == pytest.approx(1.0)
    assert min(values) >= 0.1 - 1e-9
    with pytest.raises(ValueError, match="warmup_fraction"):
        lrs(warmup_cosine, warmup_fraction=1.0)
