"""The real-time student: timm encoder -> 1x1 MLP decoder -> light stride-2 refine -> heads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seg.errors import ConfigError
from seg.models.contract import SegOutput, check_input_shape
from seg.models.decoders import MLPDecoder, resize_to
from seg.models.encoders import TimmEncoder
from seg.models.normalize import InputNormalization, timm_mean_std
from seg.models.pretrained import PretrainedStatus
from seg.models.refine import RefineModule


class StudentNet(nn.Module):
    """Small portrait segmentation network that exports to ONNX and runs in real time on CPU.

    Any input of at least ``min_size`` pixels a side works, with no divisibility constraint: every
    resize takes its target size from an actual tensor shape. The encoder gives features at strides
    2 to 32; the :class:`~seg.models.decoders.MLPDecoder` fuses strides >= 4 at stride 4; the
    :class:`~seg.models.refine.RefineModule` refines at stride 2 with the stride-2 feature (or a
    conv stem on the image when the encoder has none); a 1x1 seg head and a 3x3 edge head give
    logits upsampled to the input size.

    Args:
        encoder: timm model name of the backbone.
        pretrained: The backbone's ImageNet weights: ``"auto"`` when cached or downloadable,
            else random initialisation with a warning; ``True``: required (fails without them);
            ``False``: never (see :func:`~seg.models.pretrained.resolve_pretrained`).
        decoder_channels: Width of the decoder.
        decoder_depth: Number of 1x1 conv blocks after the decoder's fusion conv.
        refine_channels: Width of the stride-2 refinement.
        refine_blocks: Number of depthwise-separable blocks in the refinement.
        edge_head: Whether to predict boundary logits (``SegOutput.edge_logits``).
        head_upsample: How the stride-2 head output reaches input resolution: ``bilinear``
            (resize the 1-channel logits) or ``shuffle`` (the head predicts 4 sub-pixel logits per
            position and a pixel shuffle arranges them, then a crop to ``H x W``). ``shuffle`` is
            learned and, in ONNX Runtime on x86, much faster: its blocked (NCHWc) layout pads a
            1-channel map to 8 or 16 channels, so a full-resolution bilinear resize and sigmoid
            cost 8-16x their size there (about 30 % of ``student_cpu``'s latency).
        mean: Normalisation mean for ``[0, 1]`` RGB input; ``None`` takes the backbone's.
        std: Normalisation std; ``None`` takes the backbone's.
        min_size: Smallest accepted height and width.
        encoder_kwargs: Extra ``timm.create_model`` arguments, e.g.
            ``{"pretrained_cfg_overlay": {"file": "/path/weights.safetensors"}}``.

    Attributes:
        feature_channels: Encoder channels by stride (the keys of ``SegOutput.features``).
        input_multiple: 1: height and width need not be multiples of anything.
        min_size: As given.
        pretrained_status: What became of the encoder's pretrained weights
            (:class:`~seg.models.pretrained.PretrainedStatus`).

    Raises:
        ValueError: For an unknown encoder name or an encoder without a stride-4 feature.
        ConfigError: For a ``pretrained`` value other than true, false or ``"auto"``.
        PretrainedWeightsError: When ``pretrained`` is true and the weights cannot be fetched.
    """

    input_multiple: int = 1

    def __init__(
        self,
        encoder: str = "mobilenetv3_small_100",
        pretrained: bool | str = "auto",
        decoder_channels: int = 32,
        decoder_depth: int = 1,
        refine_channels: int = 16,
        refine_blocks: int = 2,
        edge_head: bool = True,
        head_upsample: str = "bilinear",
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        min_size: int = 32,
        encoder_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.name = f"StudentNet({encoder})"
        self.min_size = min_size
        self.encoder = TimmEncoder(
            encoder, pretrained=pretrained, out_strides=None, **dict(encoder_kwargs or {})
        )
        self.pretrained_status: PretrainedStatus = self.encoder.pretrained_status
        default_mean, default_std = timm_mean_std(self.encoder)
        self.normalize = InputNormalization(
            default_mean if mean is None else mean, default_std if std is None else std
        )
        self.feature_channels: dict[int, int] = dict(self.encoder.channels)
        self.decoder = MLPDecoder(
            self.feature_channels, channels=decoder_channels, depth=decoder_depth, out_stride=4
        )
        self.refine = RefineModule(
            decoder_channels,
            self.feature_channels.get(2),
            channels=refine_channels,
            num_blocks=refine_blocks,
        )
        if head_upsample not in ("bilinear", "shuffle"):
            raise ConfigError(
                f"head_upsample must be 'bilinear' or 'shuffle'; got '{head_upsample}'."
            )
        self.head_upsample = head_upsample
        sub = 4 if head_upsample == "shuffle" else 1  # 2 x 2 sub-pixel logits per position
        self.seg_head = nn.Conv2d(refine_channels, sub, 1)
        self.edge_head = nn.Conv2d(refine_channels, sub, 3, padding=1) if edge_head else None

    def forward(self, x: Tensor) -> SegOutput:
        """Segment a ``B x 3 x H x W`` RGB batch in ``[0, 1]``.

        Returns:
            :class:`~seg.models.contract.SegOutput` with logits (and edge logits) at ``H x W`` and
            the encoder features keyed by stride.

        Raises:
            ValueError: When ``x`` is not ``B x 3 x H x W`` or is smaller than ``min_size``.
        """
        if not torch.jit.is_tracing():  # shape checks would only add TracerWarnings to export
            check_input_shape(x, model_name=self.name, min_size=self.min_size)
        image = self.normalize(x)
        features = self.encoder(image)
        refined = self.refine(self.decoder(features), features.get(2, image))
        logits = self._upsample(self.seg_head(refined), x)
        edge_logits = None if self.edge_head is None else self._upsample(self.edge_head(refined), x)
        return SegOutput(logits=logits, edge_logits=edge_logits, features=features)

    def _upsample(self, head: Tensor, x: Tensor) -> Tensor:
        """Stride-2 head output -> ``B x 1 x H x W`` logits at the size of ``x``."""
        if self.head_upsample == "bilinear":
            return resize_to(head, x)
        full = F.pixel_shuffle(head, 2)  # 2 * ceil(H / 2) x 2 * ceil(W / 2)
        return full[..., : x.shape[-2], : x.shape[-1]]
