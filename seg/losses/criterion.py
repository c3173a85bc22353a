"""The one place where model outputs are wired to losses.

A :class:`Criterion` holds named :class:`LossTerm` s. Each term says which field of the model's
:class:`~seg.models.contract.SegOutput` it reads (``pred``), which entry of the batch it compares
against (``target``), and its weight. The criterion returns every weighted term separately so the
training module can log each one (``train/loss_bce``, ``train/loss_dice``, ...) and their sum.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from seg.models.contract import SegOutput


class LossTerm(nn.Module):
    """One weighted loss applied to one model output and one batch entry.

    Args:
        loss: A module ``loss(prediction, target) -> scalar``.
        weight: Multiplier of the term in the total loss. 0 disables the term (it is not computed).
        pred: Field of :class:`SegOutput` used as prediction (``logits`` or ``edge_logits``).
        target: Key of the batch used as target (``mask``, ``edge``, ...).
    """

    def __init__(
        self, loss: nn.Module, weight: float = 1.0, pred: str = "logits", target: str = "mask"
    ) -> None:
        super().__init__()
        if weight < 0:
            raise ValueError(f"LossTerm: weight must be >= 0, got {weight}.")
        self.loss = loss
        self.weight = float(weight)
        self.pred = pred
        self.target = target

    def forward(self, out: SegOutput, batch: Mapping[str, Tensor]) -> Tensor:
        prediction = getattr(out, self.pred, None)
        if prediction is None:
            raise ValueError(
                f"Loss term reads model output '{self.pred}', which this model does not produce "
                f"(None). Set this term's weight to 0 or use a model with that head."
            )
        if self.target not in batch:
            raise KeyError(
                f"Loss term needs batch entry '{self.target}'; the batch has {sorted(batch)}."
            )
        return self.weight * self.loss(prediction, batch[self.target])


class Criterion(nn.Module):
    """A named set of loss terms.

    Args:
        terms: Mapping from term name (used in logged keys, e.g. ``loss_bce``) to :class:`LossTerm`.
    """

    def __init__(self, terms: Mapping[str, LossTerm]) -> None:
        super().__init__()
        active = {name: term for name, term in terms.items() if term.weight > 0}
        if not active:
            raise ValueError(
                f"Criterion needs at least one loss term with weight > 0; got {list(terms)}."
            )
        self.terms = nn.ModuleDict(active)

    def forward(self, out: SegOutput, batch: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Compute every term.

        Returns:
            ``{"loss_<name>": weighted term, ..., "loss": total}``.
        """
        losses = {f"loss_{name}": term(out, batch) for name, term in self.terms.items()}
        losses["loss"] = torch.stack(list(losses.values())).sum()
        return losses
