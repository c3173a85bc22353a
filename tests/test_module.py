import functools
import logging

import torch

from seg.losses import BCELoss, Criterion, LossTerm
from seg.models import StudentNet
from seg.module import SegModule


def make_module(edge_head: bool, terms: dict) -> SegModule:
    return SegModule(
        net=StudentNet(encoder="mobilenetv3_small_050", edge_head=edge_head),
        criterion=Criterion(terms),
        optimizer=functools.partial(torch.optim.AdamW, lr=1e-3),
    )


def test_untrained_edge_head_is_reported(caplog):
    with caplog.at_level(logging.WARNING, logger="seg.module"):
        make_module(True, {"bce": LossTerm(BCELoss())})
    assert "edge head but no loss term reads edge_logits" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="seg.module"):
        make_module(False, {"bce": LossTerm(BCELoss())})
        make_module(
            True,
            {
                "bce": LossTerm(BCELoss()),
                "edge": LossTerm(BCELoss(), pred="student.edge_logits", target="batch.edge"),
            },
        )
    assert "edge head" not in caplog.text


def test_channels_last_forward_matches_contiguous():
    torch.manual_seed(0)
    module = make_module(False, {"bce": LossTerm(BCELoss())}).eval()
    x = torch.rand(2, 3, 64, 96)
    reference = module.net(x).logits
    module_cl = SegModule(
        net=module.net,
        criterion=module.criterion,
        optimizer=module.optimizer_factory,
        channels_last=True,
    ).eval()
    assert torch.allclose(module_cl(x).logits, reference, atol=1e-5)


def test_boundary_f_is_computed_for_val_and_test_only():
    module = make_module(False, {"bce": LossTerm(BCELoss())})
    assert set(module.train_metrics.keys()) == {"train/iou", "train/mae"}
    for stage in ("val", "test"):
        keys = set(getattr(module, f"{stage}_metrics").keys())
        assert keys == {f"{stage}/iou", f"{stage}/mae", f"{stage}/boundary_f"}
