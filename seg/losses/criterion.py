"""The one place where model outputs are wired to losses.

A training step collects named **sources**:

* ``batch``: the batch dict (``image``, ``mask``, ...);
* ``student``: the :class:`~seg.models.contract.SegOutput` of the network being trained;
* ``teacher``: the teacher's ``SegOutput`` (distillation runs only);
* ``perturbed`` / ``warped``: the student's output on a perturbed copy of the batch and its clean
  logits warped the same way (temporal-consistency runs only, see :mod:`seg.losses.temporal`);
* ``previous``: the student's output on the previous video frame (``batch.previous_image``), for
  consistency across consecutive frames.

A :class:`Criterion` holds named terms. Each term names the sources it reads with dotted paths
(``student.logits``, ``batch.mask``, ``teacher.features``), so the loss modules stay plain
``loss(prediction, target) -> scalar`` and know nothing of models or configs. The criterion returns
every weighted term separately (logged as ``train/loss_<name>``) and their sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from seg.errors import ConfigError

SOURCES = ("batch", "student", "teacher", "perturbed", "warped", "previous")


def _check_path(path: str, what: str) -> str:
    root = path.split(".", 1)[0]
    if root not in SOURCES or "." not in path:
        raise ConfigError(
            f"{what} '{path}' must be '<source>.<field>' with source one of {list(SOURCES)}, "
            f"e.g. 'student.logits', 'batch.mask', 'teacher.features'."
        )
    return path


def resolve(sources: Mapping[str, Any], path: str) -> Any:
    """Look up a dotted path such as ``student.logits`` or ``batch.mask`` in the sources.

    Raises:
        KeyError: When the source or field is missing, naming what is available.
    """
    root, *fields = path.split(".")
    if root not in sources or sources[root] is None:
        available = sorted(k for k, v in sources.items() if v is not None)
        hint = (
            " Distillation terms need a teacher: pick teacher=offline or teacher=online."
            if root == "teacher"
            else ""
        )
        raise KeyError(f"Loss input '{path}': no source '{root}' in {available}.{hint}")
    value = sources[root]
    for i, name in enumerate(fields):
        if isinstance(value, Mapping):
            if name not in value:
                raise KeyError(
                    f"Loss input '{path}': '{'.'.join([root, *fields[:i]])}' has no entry "
                    f"'{name}'; it has {sorted(map(str, value))}."
                )
            value = value[name]
        else:
            value = getattr(value, name, None)
        if value is None:
            raise ConfigError(
                f"Loss input '{path}' is None: the model does not produce it. Set this term's "
                f"weight to 0 or use a model with that head (e.g. model.edge_head=true)."
            )
    return value


class LossTerm(nn.Module):
    """One weighted loss applied to two sources.

    Args:
        loss: A module ``loss(prediction, target) -> scalar``.
        weight: Multiplier of the term in the total loss. 0 disables the term (it is not computed).
        pred: Dotted path of the prediction, e.g. ``student.logits``, ``student.edge_logits``.
        target: Dotted path of the target, e.g. ``batch.mask`` or ``teacher.logits``.
    """

    def __init__(
        self,
        loss: nn.Module,
        weight: float = 1.0,
        pred: str = "student.logits",
        target: str = "batch.mask",
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if weight < 0:
            raise ConfigError(f"{name}: weight must be >= 0, got {weight}.")
        self.loss = loss
        self.weight = float(weight)
        self.pred = _check_path(pred, f"{name} pred")
        self.target = _check_path(target, f"{name} target")

    @property
    def reads(self) -> set[str]:
        """The sources this term needs."""
        return {self.pred.split(".")[0], self.target.split(".")[0]}

    def forward(self, sources: Mapping[str, Any]) -> Tensor:
        return self.weight * self.loss(resolve(sources, self.pred), resolve(sources, self.target))


class FeatureKDTerm(LossTerm):
    """A feature-distillation loss applied to student and teacher features paired by stride.

    The student's stride-``s`` feature is compared with the teacher's stride-``s`` feature, for each
    configured stride with its own weight; the losses resize spatially when sizes differ and are
    channel-agnostic, so widths may differ.

    Args:
        loss: A module ``loss(student_feature, teacher_feature) -> scalar``.
        strides: ``{stride: weight}``; strides with weight 0 are skipped.
        weight: Overall multiplier of the term (0 disables it).
        pred: Dotted path of the student's feature dict.
        target: Dotted path of the teacher's feature dict.
    """

    def __init__(
        self,
        loss: nn.Module,
        strides: Mapping[int | str, float],
        weight: float = 1.0,
        pred: str = "student.features",
        target: str = "teacher.features",
    ) -> None:
        super().__init__(loss, weight, pred, target)
        pairs = {int(s): float(w) for s, w in dict(strides).items()}
        bad = {s: w for s, w in pairs.items() if s < 1 or w < 0}
        if bad or not any(w > 0 for w in pairs.values()):
            raise ConfigError(
                f"FeatureKDTerm: strides must map strides >= 1 to weights >= 0 with at least one "
                f"weight > 0, got {dict(strides)}."
            )
        self.strides = {s: w for s, w in sorted(pairs.items()) if w > 0}

    def forward(self, sources: Mapping[str, Any]) -> Tensor:
        student, teacher = resolve(sources, self.pred), resolve(sources, self.target)
        total = None
        for stride, weight in self.strides.items():
            if stride not in student or stride not in teacher:
                raise KeyError(
                    f"Feature distillation at stride {stride}: the student has strides "
                    f"{sorted(student)} and the teacher {sorted(teacher)}. Pick strides both have."
                )
            value = weight * self.loss(student[stride], teacher[stride])
            total = value if total is None else total + value
        return self.weight * total


class Criterion(nn.Module):
    """A named set of loss terms.

    Args:
        terms: Mapping from term name (used in logged keys, e.g. ``loss_ce``) to a
            :class:`LossTerm` or :class:`FeatureKDTerm`. Null entries and zero-weight terms are
            dropped.
        perturbation: The perturbation that makes the ``perturbed``/``warped`` sources (see
            :class:`~seg.losses.temporal.ConsistencyPerturbation`); needed only by terms that read
            them.
    """

    def __init__(
        self, terms: Mapping[str, nn.Module | None], perturbation: nn.Module | None = None
    ) -> None:
        super().__init__()
        active = {n: t for n, t in terms.items() if t is not None and t.weight > 0}
        if not active:
            raise ConfigError(
                f"Criterion needs at least one loss term with weight > 0; got {list(terms)}."
            )
        self.terms = nn.ModuleDict(active)
        if self.reads & {"perturbed", "warped"} and perturbation is None:
            raise ConfigError(
                "A loss term reads 'perturbed'/'warped' (temporal consistency) but the criterion "
                "has no perturbation; set loss.perturbation (see configs/loss_terms/temporal.yaml)."
            )
        self.perturbation = perturbation

    @property
    def reads(self) -> set[str]:
        """Every source some term needs."""
        return set().union(*(term.reads for term in self.terms.values()))

    def forward(
        self, sources: Mapping[str, Any], only_available: bool = False
    ) -> dict[str, Tensor]:
        """Compute every term.

        Args:
            sources: ``{"batch": ..., "student": ..., ...}`` (see the module docstring).
            only_available: Skip terms whose sources are absent (validation computes the task
                terms only, without a teacher or a perturbed pass).

        Returns:
            ``{"loss_<name>": weighted term, ..., "loss": total}``.
        """
        present = {k for k, v in sources.items() if v is not None}
        losses = {
            f"loss_{name}": term(sources)
            for name, term in self.terms.items()
            if not only_available or term.reads <= present
        }
        if not losses:
            return {}
        losses["loss"] = torch.stack(list(losses.values())).sum()
        return losses
