"""Temporal consistency from single images (the Tencent Meeting recipe).

Video portrait segmentation flickers when a small change of the input (camera shake, sensor noise,
auto-exposure) changes the mask. Without labelled video, the training step simulates the next
frame instead:

1. :class:`ConsistencyPerturbation` draws a slight random affine ``theta`` and photometric jitter
   per image and returns the perturbed batch and ``theta``;
2. the model runs on the clean and on the perturbed batch;
3. the clean logits are warped with the same ``theta`` (:func:`warp_with_validity`), so they line
   up with the perturbed frame, and pixels that come from outside the clean frame become NaN;
4. :class:`TemporalConsistencyLoss` penalises the distance between the two probability maps on the
   valid pixels.

Convention for ``theta``: it is the ``B x 2 x 3`` matrix of :func:`torch.nn.functional.affine_grid`
in normalised coordinates (``align_corners=False``), i.e. the map from an *output* position to the
*input* position it samples: ``warped(p) = x(theta @ [p, 1])``. The perturbed image is
``affine_warp(image, theta)``, so for a model that commutes with the warp
``model(perturbed) == affine_warp(model(image), theta)``; the same ``theta`` is used for the image
and the prediction, never its inverse.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seg.errors import ConfigError

_PADDING_MODES = ("zeros", "border", "reflection")
_VALID_THRESHOLD = 0.999


def affine_warp(x: Tensor, theta: Tensor, padding_mode: str = "zeros") -> Tensor:
    """Warp a ``B x C x H x W`` tensor with ``B x 2 x 3`` affine matrices.

    Bilinear :func:`~torch.nn.functional.grid_sample` on an
    :func:`~torch.nn.functional.affine_grid` with ``align_corners=False``; ``theta`` maps output to
    input positions in normalised coordinates (see the module docstring).

    Args:
        x: Tensor to warp.
        theta: ``B x 2 x 3`` affine matrices (cast to ``x``'s dtype and device).
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"``, for samples outside ``x``.

    Returns:
        The warped tensor, same shape as ``x``; differentiable with respect to ``x``.

    Raises:
        ValueError: For a ``theta`` that is not ``B x 2 x 3`` or an unknown ``padding_mode``.
    """
    if theta.shape != (x.shape[0], 2, 3):
        raise ConfigError(
            f"affine_warp: theta must be B x 2 x 3 = {(x.shape[0], 2, 3)} for x of shape "
            f"{tuple(x.shape)}, got {tuple(theta.shape)}."
        )
    if padding_mode not in _PADDING_MODES:
        raise ConfigError(
            f"affine_warp: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}."
        )
    theta = theta.to(dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def warp_with_validity(x: Tensor, theta: Tensor) -> Tensor:
    """Like :func:`affine_warp`, but pixels that sample outside ``x`` are set to NaN.

    Validity is a warped tensor of ones (zero padding): a pixel whose bilinear weights reach less
    than 0.999 into the source is invalid, so partly-outside pixels at the border are dropped too.
    :class:`TemporalConsistencyLoss` ignores the NaN pixels. Gradients reach ``x`` through the valid
    pixels only.

    Args:
        x: ``B x C x H x W`` tensor (e.g. clean logits).
        theta: ``B x 2 x 3`` affine matrices.

    Returns:
        The warped tensor with NaN where the sample falls outside ``x``.
    """
    warped = affine_warp(x, theta, padding_mode="zeros")
    with torch.no_grad():
        ones = torch.ones_like(x[:, :1])
        valid = affine_warp(ones, theta, padding_mode="zeros") >= _VALID_THRESHOLD
    return warped.masked_fill(~valid, float("nan"))


def _gaussian_blur(images: Tensor, sigma: Tensor, radius: int) -> Tensor:
    """Separable Gaussian blur with one ``sigma`` per image (0 = unchanged), as depthwise convs."""
    b, c, h, w = images.shape
    offsets = torch.arange(-radius, radius + 1, device=images.device, dtype=images.dtype)
    sigma = sigma.to(images.dtype).clamp(min=1e-6)[:, None]
    kernel = torch.exp(-0.5 * (offsets[None, :] / sigma) ** 2)
    kernel = kernel / kernel.sum(1, keepdim=True)  # B x K; sigma -> 0 gives a delta
    kernel = kernel.repeat_interleave(c, dim=0)  # (B*C) x K
    x = images.reshape(1, b * c, h, w)
    x = F.pad(x, (radius, radius, 0, 0), mode="replicate")
    x = F.conv2d(x, kernel[:, None, None, :], groups=b * c)
    x = F.pad(x, (0, 0, radius, radius), mode="replicate")
    x = F.conv2d(x, kernel[:, None, :, None], groups=b * c)
    return x.reshape(b, c, h, w)


def _grayscale(images: Tensor) -> Tensor:
    r, g, b = images.unbind(1)
    return (0.299 * r + 0.587 * g + 0.114 * b).unsqueeze(1)


class ConsistencyPerturbation(nn.Module):
    """A slight random photometric and affine perturbation of an RGB batch, one draw per image.

    Photometric first: brightness (multiply by ``U[1 - brightness, 1 + brightness]``), contrast
    (blend with the image's mean grey level), saturation (blend with the per-pixel grey level),
    each clamped to ``[0, 1]``; additive Gaussian noise of std ``noise_std``; with probability
    ``blur_prob`` a Gaussian blur with ``sigma ~ U(0, blur_sigma]`` (batched depthwise convs).
    Then the geometric warp: rotation ``U[-max_rotate_deg, max_rotate_deg]`` and scale
    ``U[1 - max_scale, 1 + max_scale]`` about the image centre and a translation of
    ``U[-max_translate, max_translate]`` of the width and height, all in *pixel* space (the
    rotation stays a rotation on non-square images), applied with reflection padding so the
    perturbed image has no black borders. ``theta`` follows the convention of the module docstring:
    ``affine_warp(model(images).logits, theta)`` aligns with ``model(perturbed).logits``.

    Random numbers come from torch's global generator on the images' device, so
    ``torch.manual_seed`` / Lightning's ``seed_everything`` make it reproducible. Runs without
    gradients on any device.

    Args:
        max_translate: Largest shift as a fraction of the width / height, in ``[0, 1]``.
        max_rotate_deg: Largest rotation in degrees, in ``[0, 180]``.
        max_scale: Largest relative zoom, in ``[0, 1)``.
        brightness: Brightness jitter, in ``[0, 1]``.
        contrast: Contrast jitter, in ``[0, 1]``.
        saturation: Saturation jitter, in ``[0, 1]``.
        noise_std: Std of the additive Gaussian noise (pixels in ``[0, 1]``), ``>= 0``.
        blur_prob: Probability of blurring an image, in ``[0, 1]``.
        blur_sigma: Largest blur sigma in pixels, ``>= 0``.

    Raises:
        ValueError: For an argument outside its range, naming it.
    """

    def __init__(
        self,
        max_translate: float = 0.03,
        max_rotate_deg: float = 3.0,
        max_scale: float = 0.05,
        brightness: float = 0.1,
        contrast: float = 0.1,
        saturation: float = 0.1,
        noise_std: float = 0.02,
        blur_prob: float = 0.3,
        blur_sigma: float = 1.0,
    ) -> None:
        super().__init__()
        ranges = {
            "max_translate": (max_translate, 0.0, 1.0),
            "max_rotate_deg": (max_rotate_deg, 0.0, 180.0),
            "brightness": (brightness, 0.0, 1.0),
            "contrast": (contrast, 0.0, 1.0),
            "saturation": (saturation, 0.0, 1.0),
            "blur_prob": (blur_prob, 0.0, 1.0),
        }
        for name, (value, lo, hi) in ranges.items():
            if not lo <= value <= hi:
                raise ConfigError(
                    f"ConsistencyPerturbation: {name} must be in [{lo}, {hi}], got {value}."
                )
        if not 0.0 <= max_scale < 1.0:
            raise ConfigError(
                f"ConsistencyPerturbation: max_scale must be in [0, 1), got {max_scale}."
            )
        for name, value in (("noise_std", noise_std), ("blur_sigma", blur_sigma)):
            if not value >= 0.0:  # also rejects NaN
                raise ConfigError(f"ConsistencyPerturbation: {name} must be >= 0, got {value}.")
        self.max_translate = float(max_translate)
        self.max_rotate_deg = float(max_rotate_deg)
        self.max_scale = float(max_scale)
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.saturation = float(saturation)
        self.noise_std = float(noise_std)
        self.blur_prob = float(blur_prob)
        self.blur_sigma = float(blur_sigma)

    @staticmethod
    def _uniform(n: int, half_width: float, device: torch.device, center: float = 0.0) -> Tensor:
        return center + (torch.rand(n, device=device) * 2.0 - 1.0) * half_width

    def sample_theta(self, batch: int, height: int, width: int, device: torch.device) -> Tensor:
        """Draw ``batch`` random affine matrices (``B x 2 x 3``, float32) for ``H x W`` images."""
        angle = self._uniform(batch, math.radians(self.max_rotate_deg), device)
        scale = self._uniform(batch, self.max_scale, device, center=1.0)
        tx = self._uniform(batch, self.max_translate, device)
        ty = self._uniform(batch, self.max_translate, device)
        cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
        aspect = height / width
        # pixel-space similarity conjugated into normalised coordinates (x scaled by 2/W, y by 2/H)
        row0 = torch.stack([cos, -sin * aspect, 2.0 * tx], dim=1)
        row1 = torch.stack([sin / aspect, cos, 2.0 * ty], dim=1)
        return torch.stack([row0, row1], dim=1)

    def _photometric(self, images: Tensor) -> Tensor:
        b, device = images.shape[0], images.device
        shape = (b, 1, 1, 1)
        bright = self._uniform(b, self.brightness, device, 1.0).to(images.dtype).view(shape)
        contrast = self._uniform(b, self.contrast, device, 1.0).to(images.dtype).view(shape)
        satur = self._uniform(b, self.saturation, device, 1.0).to(images.dtype).view(shape)
        blur_on = torch.rand(b, device=device) < self.blur_prob
        sigma = torch.rand(b, device=device) * self.blur_sigma
        noise = torch.randn_like(images) * self.noise_std if self.noise_std > 0 else None

        x = (images * bright).clamp(0.0, 1.0)
        mean = _grayscale(x).mean(dim=(2, 3), keepdim=True)
        x = ((x - mean) * contrast + mean).clamp(0.0, 1.0)
        gray = _grayscale(x)
        x = ((x - gray) * satur + gray).clamp(0.0, 1.0)
        if noise is not None:
            x = x + noise
        radius = math.ceil(3.0 * self.blur_sigma)
        if self.blur_prob > 0 and radius > 0:
            x = _gaussian_blur(x, torch.where(blur_on, sigma, torch.zeros_like(sigma)), radius)
        return x

    @torch.no_grad()
    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Perturb a batch.

        Args:
            images: ``B x 3 x H x W`` RGB in ``[0, 1]``.

        Returns:
            ``(perturbed, theta)``: the perturbed batch clamped to ``[0, 1]`` (same shape and dtype)
            and the ``B x 2 x 3`` affine matrices used for its geometric warp (images' dtype).

        Raises:
            ValueError: When ``images`` is not ``B x 3 x H x W``.
        """
        if images.ndim != 4 or images.shape[1] != 3:
            raise ConfigError(
                f"ConsistencyPerturbation: images must be B x 3 x H x W, got {tuple(images.shape)}."
            )
        b, _, h, w = images.shape
        theta = self.sample_theta(b, h, w, images.device).to(images.dtype)
        x = self._photometric(images)
        x = affine_warp(x, theta, padding_mode="reflection")
        return x.clamp(0.0, 1.0), theta


class TemporalConsistencyLoss(nn.Module):
    """Distance between the foreground probabilities of two logit maps, ignoring NaN target pixels.

    ``pred_logits`` is the prediction on the perturbed batch and ``target_logits`` the clean
    prediction warped into its frame by :func:`warp_with_validity` (NaN outside the clean frame).
    The distance between ``sigmoid`` probabilities is averaged over all pixels of the batch where
    the target is finite; with no such pixel it is a zero that keeps the autograd graph. NaNs are
    replaced before any arithmetic, so gradients stay finite. Both sides receive gradients (the
    model is pulled towards a consistent answer from both views) unless ``detach_target``.

    It also works on consecutive video frames: pass the prediction on frame ``t`` and the (possibly
    flow-warped) prediction on frame ``t - 1`` as the target; without NaNs every pixel counts.

    Args:
        distance: ``"mse"`` (mean squared difference) or ``"l1"`` (mean absolute difference).
        detach_target: Stop gradients into ``target_logits``.

    Raises:
        ValueError: For an unknown ``distance``.
    """

    def __init__(self, distance: str = "mse", detach_target: bool = False) -> None:
        super().__init__()
        if distance not in ("mse", "l1"):
            raise ConfigError(
                f"TemporalConsistencyLoss: distance must be 'mse' or 'l1', got {distance!r}."
            )
        self.distance = distance
        self.detach_target = detach_target

    def forward(self, pred_logits: Tensor, target_logits: Tensor) -> Tensor:
        """Mean distance over the finite target pixels.

        Raises:
            ValueError: When the shapes differ.
        """
        if pred_logits.shape != target_logits.shape:
            raise ConfigError(
                f"TemporalConsistencyLoss: pred_logits shape {tuple(pred_logits.shape)} and "
                f"target_logits shape {tuple(target_logits.shape)} differ."
            )
        if self.detach_target:
            target_logits = target_logits.detach()
        valid = torch.isfinite(target_logits)
        # masked_fill before sigmoid: its backward sends zero (not NaN) to the filled pixels
        target = torch.sigmoid(target_logits.masked_fill(~valid, 0.0))
        diff = torch.sigmoid(pred_logits) - target
        per_pixel = diff.pow(2) if self.distance == "mse" else diff.abs()
        per_pixel = per_pixel.masked_fill(~valid, 0.0)
        count = valid.sum().clamp(min=1).to(per_pixel.dtype)
        return per_pixel.sum() / count
