"""The one inference API: load any trained model (run dir, ``.pt``, ``.ckpt``, ``.onnx``,
``.tflite``) and run it on RGB frames of any size (:func:`load_predictor`, :class:`Predictor`)."""

from seg.data.sample import to_frames  # the inverse of a dataset sample
from seg.inference.backends import (
    Backend,
    OnnxBackend,
    TfliteBackend,
    TorchBackend,
    ort_session,
    tflite_interpreter,
)
from seg.inference.predictor import (
    DEFAULT_RESIZE,
    Predictor,
    find_weights,
    load_predictor,
    to_model_input,
)

__all__ = [
    "DEFAULT_RESIZE",
    "Backend",
    "OnnxBackend",
    "Predictor",
    "TfliteBackend",
    "TorchBackend",
    "find_weights",
    "load_predictor",
    "ort_session",
    "tflite_interpreter",
    "to_frames",
    "to_model_input",
]
