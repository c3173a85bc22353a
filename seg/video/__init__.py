"""The virtual-background app (``scripts/video.py``) and its per-frame path.

* :mod:`.sources`: frames from a video file, a folder of frames or a camera (OpenCV);
* :mod:`.frame_path`: resize -> model -> post-process -> composite for one frame, each stage
  timed (:class:`~seg.video.frame_path.StageTimes`), and the views (composite, mask,
  side-by-side, two models compared);
* :mod:`.composite`: backgrounds (blur, colour, image, looping video) and the ``uint8`` blend;
* :mod:`.sinks`: the output video (audio muxed back with ffmpeg) or PNG frames, written under a
  temporary name and moved into place when complete;
* :mod:`.app`: the whole run (:func:`~seg.video.app.run_video`) and its statistics.

The end-to-end latency benchmark of this path is :mod:`seg.bench.video_latency`.
"""

from seg.video.app import VideoOptions, run_video
from seg.video.composite import Compositor, open_background
from seg.video.frame_path import FramePath, Segmenter, StageTimes
from seg.video.sinks import check_output, find_ffmpeg
from seg.video.sources import open_source

__all__ = [
    "Compositor",
    "FramePath",
    "Segmenter",
    "StageTimes",
    "VideoOptions",
    "check_output",
    "find_ffmpeg",
    "open_background",
    "open_source",
    "run_video",
]
