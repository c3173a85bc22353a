"""seg: train and distill real-time portrait segmentation models, and ship the student as ONNX."""

__version__ = "0.1.0"
