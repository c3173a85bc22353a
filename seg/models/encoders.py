"""timm backbones as encoders that return feature maps keyed by stride."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import timm
import torch
from torch import Tensor, nn

from seg.errors import ConfigError
from seg.models.pretrained import PretrainedStatus, build_backbone


def check_timm_name(name: str) -> None:
    """Raise a helpful :class:`ValueError` when ``name`` is not a timm model.

    Args:
        name: timm model name, optionally with a pretrained tag (``"resnet50.a1_in1k"``).

    Raises:
        ValueError: Naming close matches and the ``timm.list_models`` call that lists more.
    """
    if timm.is_model(name):
        return
    arch = name.split(".")[0]
    pattern = f"*{arch.split('_')[0]}*"
    close = difflib.get_close_matches(arch, timm.list_models(), n=5, cutoff=0.6)
    similar = close or timm.list_models(pattern)[:10]
    raise ConfigError(
        f"Unknown timm model '{name}'. Similar names: {similar or 'none'}. "
        f"List candidates with timm.list_models('{pattern}')."
    )


class TimmEncoder(nn.Module):
    """A timm backbone (``features_only=True``) returning ``{stride: feature map}``.

    Args:
        name: timm model name, e.g. ``"mobilenetv3_large_100"``.
        pretrained: ``True``: load the pretrained weights (from the Hugging Face cache or the
            internet), failing if they cannot be fetched; ``False``: random initialisation;
            ``"auto"``: the weights when cached or downloadable, else random initialisation with
            a warning (see :func:`~seg.models.pretrained.resolve_pretrained`).
        out_strides: Strides to return, e.g. ``(2, 4, 8, 16, 32)``; ``None`` for every stride the
            backbone has. When several stages share a stride, the deepest one is used.
        **timm_kwargs: Passed to ``timm.create_model`` (e.g. ``drop_path_rate``,
            ``pretrained_cfg_overlay=dict(file=...)``).

    Attributes:
        strides: The returned strides, ascending.
        channels: Stride -> number of channels of that feature map.
        pretrained_status: What became of the pretrained weights
            (:class:`~seg.models.pretrained.PretrainedStatus`).

    Raises:
        ValueError: For an unknown timm name, a stride the backbone does not have, or an
            ``out_indices`` / ``features_only`` keyword (chosen here from ``out_strides``).
        ConfigError: For a ``pretrained`` value other than true, false or ``"auto"``.
        PretrainedWeightsError: When ``pretrained`` is true and the weights cannot be fetched.
    """

    def __init__(
        self,
        name: str,
        pretrained: bool | str = "auto",
        out_strides: Sequence[int] | None = (2, 4, 8, 16, 32),
        **timm_kwargs: Any,
    ) -> None:
        super().__init__()
        check_timm_name(name)
        reserved = {"out_indices", "features_only"} & timm_kwargs.keys()
        if reserved:
            raise ConfigError(f"TimmEncoder sets {sorted(reserved)} itself; use out_strides.")
        with torch.device("meta"):  # architecture only: no memory, no weights
            probe = timm.create_model(name, features_only=True, **timm_kwargs)
        deepest = {s: i for i, s in enumerate(probe.feature_info.reduction())}
        wanted = sorted(deepest) if out_strides is None else sorted(set(out_strides))
        missing = [s for s in wanted if s not in deepest]
        if missing:
            raise ConfigError(
                f"Encoder '{name}' has no feature map at stride(s) {missing}; "
                f"available strides: {sorted(deepest)}."
            )
        indices = tuple(deepest[s] for s in wanted)
        self.name = name
        self.model, status = build_backbone(
            lambda p: timm.create_model(
                name, pretrained=p, features_only=True, out_indices=indices, **timm_kwargs
            ),
            encoder=name,
            pretrained=pretrained,
            pretrained_cfg_overlay=timm_kwargs.get("pretrained_cfg_overlay"),
        )
        self.pretrained_status: PretrainedStatus = status
        self.strides: tuple[int, ...] = tuple(wanted)
        self.channels: dict[int, int] = dict(
            zip(wanted, self.model.feature_info.channels(), strict=True)
        )

    @property
    def pretrained_cfg(self) -> dict[str, Any]:
        """The timm ``pretrained_cfg`` of the backbone (mean, std, weights source...)."""
        return self.model.pretrained_cfg

    def forward(self, x: Tensor) -> dict[int, Tensor]:
        """Encode a normalised ``B x 3 x H x W`` batch into ``{stride: B x C x h x w}``."""
        return dict(zip(self.strides, self.model(x), strict=True))
