"""Light refinement at stride 2: sharper person boundaries for a few MACs.

Tencent Meeting's portrait model is encoder -> decoder -> light refine: the decoder works at stride 4
or more, and a few thin convolutions at stride 2, fed with high-resolution encoder detail, recover
hair and finger edges that bilinear upsampling alone would blur.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seg.errors import ConfigError
from seg.models.decoders import ConvBNReLU, resize_to


class DepthwiseSeparable(nn.Sequential):
    """3x3 depthwise conv -> 1x1 pointwise conv, each with BatchNorm and ReLU."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__(ConvBNReLU(in_ch, in_ch, 3, groups=in_ch), ConvBNReLU(in_ch, out_ch))


class RefineModule(nn.Module):
    """Fuse the decoder output with stride-2 detail through thin depthwise-separable blocks.

    The decoder output is reduced to ``channels`` by a 1x1 conv (before upsampling: cheap), resized
    to the exact size of the stride-2 skip, concatenated with it, and refined by ``num_blocks``
    depthwise-separable 3x3 blocks whose output is added to the upsampled decoder output.

    Args:
        in_channels: Channels of the decoder output.
        skip_channels: Channels of the stride-2 encoder feature, or ``None`` when the encoder has
            none: a cheap 3x3 stride-2 conv stem then makes the skip from the normalised image.
        channels: Width of the module (few: it runs at stride 2).
        num_blocks: Number of depthwise-separable blocks (>= 1).

    Attributes:
        out_channels: Channels of the refined feature (``channels``).

    Raises:
        ValueError: When ``channels`` or ``num_blocks`` is below 1.
    """

    def __init__(
        self,
        in_channels: int,
        skip_channels: int | None,
        channels: int = 16,
        num_blocks: int = 2,
    ) -> None:
        super().__init__()
        if channels < 1 or num_blocks < 1:
            raise ConfigError(
                f"Need channels >= 1 and num_blocks >= 1; got {channels=}, {num_blocks=}."
            )
        self.out_channels = channels
        self.reduce = ConvBNReLU(in_channels, channels)
        self.skip = (
            ConvBNReLU(3, channels, 3, stride=2)
            if skip_channels is None
            else ConvBNReLU(skip_channels, channels)
        )
        self.blocks = nn.Sequential(
            DepthwiseSeparable(2 * channels, channels),
            *(DepthwiseSeparable(channels, channels) for _ in range(num_blocks - 1)),
        )

    def forward(self, decoded: Tensor, skip: Tensor) -> Tensor:
        """Refine at stride 2.

        Args:
            decoded: Decoder output, ``B x in_channels x h x w`` (any stride above 2).
            skip: The stride-2 encoder feature, or the normalised image when built with
                ``skip_channels=None``.

        Returns:
            ``B x channels x ceil(H/2) x ceil(W/2)``.
        """
        skip = self.skip(skip)
        up = resize_to(self.reduce(decoded), skip)
        return up + self.blocks(torch.cat([up, skip], dim=1))
