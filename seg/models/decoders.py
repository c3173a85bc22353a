"""Light decoders and the building blocks they share with the refinement module."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seg.errors import ConfigError


def resize_to(x: Tensor, ref: Tensor) -> Tensor:
    """Bilinearly resize ``x`` to the exact spatial size of ``ref``.

    Sizes are read from ``ref.shape``, never derived from a fixed scale factor, so odd sizes work
    (a 144-pixel side is 5 at stride 32 and 9 at stride 16: not a factor of 2 apart), and the
    classic ONNX exporter traces the size as ``Shape`` ops, which keeps dynamic axes working.
    """
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


class ConvBNReLU(nn.Sequential):
    """``k x k`` convolution (no bias) -> BatchNorm -> ReLU; ``groups=in_ch`` for depthwise."""

    def __init__(
        self, in_ch: int, out_ch: int, kernel_size: int = 1, stride: int = 1, groups: int = 1
    ) -> None:
        super().__init__(
            nn.Conv2d(
                in_ch, out_ch, kernel_size, stride, kernel_size // 2, groups=groups, bias=False
            ),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )


class MLPDecoder(nn.Module):
    """SegFormer / Google Meet HD style decoder made only of 1x1 convolutions.

    Every feature at stride ``>= out_stride`` is projected to ``channels`` by a 1x1 conv (at its own,
    low resolution: cheap), resized to the exact size of the stride-``out_stride`` feature, and the
    concatenation is fused by a 1x1 conv followed by ``depth`` more 1x1 conv blocks. Features at
    strides below ``out_stride`` are ignored (the refinement module uses them). ``channels`` and
    ``depth`` are the knobs Google Meet tuned by architecture search.

    Args:
        in_channels: Encoder channels by stride, e.g. ``{2: 16, 4: 24, 8: 40, 16: 112, 32: 960}``.
        channels: Width of every projection and of the output.
        depth: Number of 1x1 conv blocks after the fusion conv.
        out_stride: Stride of the output; ``in_channels`` must have it.

    Raises:
        ValueError: When ``in_channels`` has no ``out_stride`` feature or sizes are not positive.
    """

    def __init__(
        self,
        in_channels: Mapping[int, int],
        channels: int = 64,
        depth: int = 1,
        out_stride: int = 4,
    ) -> None:
        super().__init__()
        if out_stride not in in_channels:
            raise ConfigError(
                f"MLPDecoder(out_stride={out_stride}) needs a stride-{out_stride} feature; "
                f"got strides {sorted(in_channels)}."
            )
        if channels < 1 or depth < 0:
            raise ConfigError(f"Need channels >= 1 and depth >= 0; got {channels=}, {depth=}.")
        self.strides = tuple(s for s in sorted(in_channels) if s >= out_stride)
        self.out_stride = out_stride
        self.out_channels = channels
        self.project = nn.ModuleDict(
            {str(s): ConvBNReLU(in_channels[s], channels) for s in self.strides}
        )
        self.fuse = nn.Sequential(
            ConvBNReLU(channels * len(self.strides), channels),
            *(ConvBNReLU(channels, channels) for _ in range(depth)),
        )

    def forward(self, features: Mapping[int, Tensor]) -> Tensor:
        """Decode ``{stride: feature}`` into ``B x channels x H/out_stride x W/out_stride``."""
        ref, *coarser = (self.project[str(s)](features[s]) for s in self.strides)
        return self.fuse(torch.cat([ref, *(resize_to(f, ref) for f in coarser)], dim=1))
