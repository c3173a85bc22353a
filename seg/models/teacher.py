"""Teachers: any segmentation-models-pytorch architecture behind the seg output contract."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seg.errors import ConfigError
from seg.models.contract import SegOutput, check_input_shape
from seg.models.encoders import check_timm_name
from seg.models.normalize import IMAGENET_MEAN, IMAGENET_STD, InputNormalization, timm_mean_std
from seg.models.pretrained import PretrainedStatus, build_backbone

_RESERVED_KWARGS = {"encoder_name", "encoder_weights", "classes", "in_channels", "aux_params"}
_PAD_MODES = ("replicate", "reflect", "constant")


def _check_smp_names(arch: str, encoder: str) -> None:
    archs = list(smp.MODEL_ARCHITECTURES_MAPPING)
    if arch.lower() not in archs:
        raise ConfigError(f"Unknown segmentation-models-pytorch arch '{arch}'; available: {archs}.")
    if encoder.startswith("tu-"):
        check_timm_name(encoder[3:])
    elif encoder not in smp.encoders.get_encoder_names():
        close = difflib.get_close_matches(encoder, smp.encoders.get_encoder_names(), n=5)
        raise ConfigError(
            f"Unknown segmentation-models-pytorch encoder '{encoder}'. Similar names: "
            f"{close or 'none'}. Any timm model works as 'tu-<timm name>', e.g. 'tu-resnet50'."
        )


class SmpTeacher(nn.Module):
    """A segmentation-models-pytorch model (Unet, FPN, DeepLabV3Plus, Segformer...) as a teacher.

    Returns :class:`~seg.models.contract.SegOutput` with ``edge_logits=None``. Encoder features are
    captured with a forward hook on ``model.encoder`` (so any arch works) and keyed by stride
    measured once at construction from actual shapes: stride-1 (the image) and empty features
    (Segformer's 0-channel stride-2 placeholder) are dropped, and when two features share a stride
    (DeepLabV3Plus' dilated stages) the deepest is kept.

    Most smp archs need inputs divisible by the encoder's output stride (usually 32; Unet in
    smp >= 0.5 does not). With ``pad_to_multiple`` the input is padded at the bottom and right,
    logits are cropped back to ``H x W`` and each stride-``s`` feature to
    ``ceil(H/s) x ceil(W/s)``, the size the student's stride-``s`` feature has, so padding never
    leaks into distillation targets beyond the partly-covered last row and column.

    Args:
        arch: smp architecture name (case-insensitive), e.g. ``"Unet"``, ``"FPN"``, ``"Segformer"``.
        encoder: smp encoder name (``"resnet34"``, ``"mit_b0"``) or ``"tu-<timm name>"``.
        pretrained: The encoder's ImageNet weights: ``"auto"`` when cached or downloadable, else
            random initialisation with a warning; ``True``: required (fails without them);
            ``False``: never (see :func:`~seg.models.pretrained.resolve_pretrained`).
        pad_to_multiple: Pad inputs to the required multiple instead of raising.
        pad_mode: ``F.pad`` mode for that padding: ``"replicate"``, ``"reflect"`` or
            ``"constant"``.
        mean: Normalisation mean for ``[0, 1]`` RGB input; ``None`` takes the timm backbone's for
            ``tu-`` encoders and ImageNet's otherwise.
        std: Normalisation std; ``None`` as for ``mean``.
        min_size: Smallest accepted height and width.
        **arch_kwargs: Passed to the smp architecture (``decoder_channels``, ``encoder_depth``...;
            for ``tu-`` encoders also to ``timm.create_model``, e.g. ``pretrained_cfg_overlay``).

    Attributes:
        feature_channels: Encoder channels by stride (the keys of ``SegOutput.features``).
        input_multiple: Height and width must be divisible by this: 1 with ``pad_to_multiple``,
            else the encoder's output stride (1 for archs that take any size).
        min_size: As given.
        pretrained_status: What became of the encoder's pretrained weights
            (:class:`~seg.models.pretrained.PretrainedStatus`).

    Raises:
        ValueError: For an unknown arch or encoder, a bad ``pad_mode``, or an argument the wrapper
            sets itself (``classes``, ``encoder_weights``...).
        ConfigError: For a ``pretrained`` value other than true, false or ``"auto"``.
        PretrainedWeightsError: When ``pretrained`` is true and the weights cannot be fetched.
    """

    def __init__(
        self,
        arch: str = "Unet",
        encoder: str = "tu-resnet50",
        pretrained: bool | str = "auto",
        pad_to_multiple: bool = True,
        pad_mode: str = "replicate",
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        min_size: int = 32,
        **arch_kwargs: Any,
    ) -> None:
        super().__init__()
        _check_smp_names(arch, encoder)
        reserved = _RESERVED_KWARGS & arch_kwargs.keys()
        if reserved:
            raise ConfigError(f"SmpTeacher sets {sorted(reserved)} itself.")
        if pad_mode not in _PAD_MODES:
            raise ConfigError(f"pad_mode must be one of {_PAD_MODES}; got '{pad_mode}'.")
        is_timm = encoder.startswith("tu-")
        self.name = f"SmpTeacher({arch}, {encoder})"
        self.model, status = build_backbone(
            lambda p: smp.create_model(
                arch,
                encoder_name=encoder,
                # smp wants True for timm ("tu-") encoders and a weights name for its own.
                encoder_weights=(True if is_timm else "imagenet") if p else None,
                classes=1,
                **arch_kwargs,
            ),
            encoder=encoder,
            pretrained=pretrained,
            pretrained_cfg_overlay=arch_kwargs.get("pretrained_cfg_overlay") if is_timm else None,
        )
        self.pretrained_status: PretrainedStatus = status
        default_mean, default_std = (
            timm_mean_std(encoder[3:]) if is_timm else (IMAGENET_MEAN, IMAGENET_STD)
        )
        self.normalize = InputNormalization(
            default_mean if mean is None else mean, default_std if std is None else std
        )
        self.min_size = min_size
        self.pad_to_multiple = pad_to_multiple
        self.pad_mode = pad_mode
        divisible = getattr(self.model, "requires_divisible_input_shape", True)
        self._multiple: int = int(self.model.encoder.output_stride) if divisible else 1
        self.input_multiple: int = 1 if pad_to_multiple else self._multiple
        self._feature_index, self.feature_channels = self._probe_features()

    @torch.no_grad()
    def _probe_features(self) -> tuple[dict[int, int], dict[int, int]]:
        """Measure each encoder feature's stride on a dummy input: ``{stride: index}``, channels."""
        size = 2 * max(32, self._multiple)
        was_training = self.model.training
        self.model.eval()
        try:
            feats = self.model.encoder(torch.zeros(1, 3, size, size))
        finally:
            self.model.train(was_training)
        index: dict[int, int] = {}
        channels: dict[int, int] = {}
        for i, f in enumerate(feats):
            h, w = f.shape[-2:]
            if f.shape[1] == 0 or h == size:
                continue
            stride = size // h
            if size % h or size // w != stride:
                raise RuntimeError(
                    f"{self.name}: encoder feature {i} has size {h}x{w} for a {size}x{size} "
                    "input, which is not a whole stride."
                )
            index[stride], channels[stride] = i, int(f.shape[1])
        return index, channels

    def _encode_hooked(self, image: Tensor) -> tuple[Tensor, list[Tensor]]:
        captured: list[list[Tensor]] = []
        handle = self.model.encoder.register_forward_hook(lambda _m, _i, out: captured.append(out))
        try:
            logits = self.model(image)
        finally:
            handle.remove()
        return logits, captured[0]

    def forward(self, x: Tensor) -> SegOutput:
        """Segment a ``B x 3 x H x W`` RGB batch in ``[0, 1]``.

        Returns:
            :class:`~seg.models.contract.SegOutput`: logits at ``H x W``, ``edge_logits=None``,
            features keyed by stride and cropped to ``ceil(H/stride) x ceil(W/stride)``.

        Raises:
            ValueError: When ``x`` is not ``B x 3 x H x W``, is smaller than ``min_size``, or (with
                ``pad_to_multiple=False``) is not divisible by ``input_multiple``; the message
                names the nearest sizes that work.
        """
        check_input_shape(
            x, model_name=self.name, multiple=self.input_multiple, min_size=self.min_size
        )
        h, w = x.shape[-2:]
        image = self.normalize(x)
        pad_h, pad_w = -h % self._multiple, -w % self._multiple
        if pad_h or pad_w:
            image = F.pad(image, (0, pad_w, 0, pad_h), mode=self.pad_mode)
        logits, feats = self._encode_hooked(image)
        features = {
            s: feats[i][..., : math.ceil(h / s), : math.ceil(w / s)]
            for s, i in self._feature_index.items()
        }
        return SegOutput(logits=logits[..., :h, :w], edge_logits=None, features=features)
