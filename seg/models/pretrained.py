"""Build a backbone with pretrained weights, failing with a message that says what to do.

timm and segmentation-models-pytorch fetch weights from the Hugging Face Hub (or a URL). Offline,
with ``HF_HUB_OFFLINE=1`` or an empty cache, they raise low-level errors (``LocalEntryNotFoundError``,
``URLError``...) that do not say which model wanted what. :func:`create_backbone` turns those into
one :class:`RuntimeError` naming the encoder, the cause and the fixes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from huggingface_hub import constants as hf_constants
from torch import nn

M = TypeVar("M", bound=nn.Module)


def create_backbone(factory: Callable[[bool], M], *, encoder: str, pretrained: bool) -> M:
    """Call ``factory(pretrained)``, explaining weight-fetching failures.

    Args:
        factory: Builds the network; its one argument says whether to load pretrained weights
            (e.g. ``lambda p: timm.create_model(name, pretrained=p)``).
        encoder: Encoder name for the error message.
        pretrained: Whether to load pretrained weights.

    Returns:
        What ``factory`` returns.

    Raises:
        RuntimeError: When ``pretrained`` is true and the weights cannot be fetched or read from
            disk (no internet, Hugging Face Hub offline, missing cache or file). The original
            error is chained as ``__cause__``.
    """
    if not pretrained:
        return factory(False)
    try:
        return factory(True)
    except OSError as err:  # URLError, requests/httpx errors, HF Hub errors, FileNotFoundError
        raise RuntimeError(_fetch_failure_message(encoder, err)) from err


def _fetch_failure_message(encoder: str, err: BaseException) -> str:
    timm_name = encoder.removeprefix("tu-")
    offline = os.environ.get("HF_HUB_OFFLINE", "<unset>")
    return (
        f"Could not fetch pretrained weights for encoder '{encoder}': "
        f"{type(err).__name__}: {err}\n"
        "Fixes, any one of:\n"
        "  * train from random initialisation: set `pretrained: false`;\n"
        "  * download the weights once on a machine with internet into the Hugging Face cache "
        f"(now {hf_constants.HF_HUB_CACHE}; moved by HF_HOME / HF_HUB_CACHE) with HF_HUB_OFFLINE "
        f"unset or 0 (now {offline}), e.g. by building this model once with `pretrained: true`, "
        "then copy the cache to this machine;\n"
        "  * for timm encoders, load a local weights file: pass "
        f"`pretrained_cfg_overlay=dict(file='/path/to/{timm_name}.safetensors')`.\n"
        "Offline, set HF_HUB_OFFLINE=1 so that fetching fails at once instead of retrying."
    )
