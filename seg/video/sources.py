"""Where the app's frames come from: a video file, a folder of frames or a camera (OpenCV).

Every source yields RGB ``uint8`` frames (``H x W x 3``) one at a time through :meth:`read`
(``None`` at the end) and knows its frame rate and size; :func:`open_source` picks the kind from the
argument and checks that a first frame can be read, so a bad input fails before anything is
written.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from seg.errors import DataError, MissingFileError, UserInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
DEFAULT_FPS = 30.0
INPUT_HELP = "pass a video file, a folder of frames (PNG/JPEG) or a camera index such as 0"


def _rgb(frame: np.ndarray) -> np.ndarray:
    """An OpenCV ``BGR`` / grey / ``BGRA`` frame as contiguous RGB ``uint8``."""
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


class FrameSource:
    """The interface of every source.

    Attributes:
        kind: ``video``, ``frames`` or ``camera``.
        name: How messages and ``stats.json`` name it (the path, or ``camera 0``).
        path: The file or folder (None for a camera).
        fps: Frames per second of the output.
        frame_count: Number of frames when known (a camera: None).
        height: Frame height.
        width: Frame width.
    """

    kind = "?"
    name = "?"
    path: Path | None = None
    fps = DEFAULT_FPS
    frame_count: int | None = None
    height = 0
    width = 0

    def read(self) -> np.ndarray | None:
        """The next RGB frame, or None at the end."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file or device."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CaptureSource(FrameSource):
    """A ``cv2.VideoCapture`` (a video file or a camera) whose first frame was read on opening."""

    def __init__(self, capture: cv2.VideoCapture, fps: float | None, what: str) -> None:
        self.capture = capture
        ok, first = capture.read()
        if not ok or first is None:
            capture.release()
            raise UserInputError(what)
        self._first: np.ndarray | None = _rgb(first)
        self.height, self.width = self._first.shape[:2]
        own = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps or (own if own and 0 < own < 1000 else DEFAULT_FPS))

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self.capture.read()
        return _rgb(frame) if ok and frame is not None else None

    def close(self) -> None:
        self.capture.release()


class VideoFileSource(_CaptureSource):
    """A video file OpenCV can decode; keeps the file's frame rate (``fps`` only when it has
    none)."""

    kind = "video"

    def __init__(self, path: Path, fps: float | None = None) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise UserInputError(
                f"{self.path}: OpenCV cannot open it as a video (unreadable, or not a video "
                f"file); {INPUT_HELP}."
            )
        own = capture.get(cv2.CAP_PROP_FPS)
        super().__init__(
            capture,
            None if own and 0 < own < 1000 else fps,
            f"{self.path}: no frame could be decoded (an empty or damaged video); {INPUT_HELP}.",
        )
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 else None


class CameraSource(_CaptureSource):
    """Camera ``index`` through OpenCV (``fps`` when the driver reports none)."""

    kind = "camera"

    def __init__(self, index: int, fps: float | None = None) -> None:
        self.index = index
        self.name = f"camera {index}"
        capture = cv2.VideoCapture(index)
        hint = (
            f"camera {index} cannot be opened: check that it is connected and not in use by "
            "another program, try another index, or pass a video file or a folder of frames."
        )
        if not capture.isOpened():
            capture.release()
            raise UserInputError(hint)
        super().__init__(capture, fps, hint.replace("cannot be opened", "gives no frames"))


class FolderSource(FrameSource):
    """The image files of a folder in sorted order, played at ``fps``; every frame must have the
    first one's size."""

    kind = "frames"

    def __init__(self, folder: Path, fps: float | None = None) -> None:
        self.path = Path(folder)
        self.name = str(self.path)
        self.files = sorted(
            p for p in self.path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self.files:
            raise UserInputError(
                f"{self.path}: the folder holds no image files ({', '.join(IMAGE_SUFFIXES)}); "
                f"{INPUT_HELP}."
            )
        self.fps = float(fps or DEFAULT_FPS)
        self.frame_count = len(self.files)
        self._next = 0
        first = self._load(self.files[0])
        self.height, self.width = first.shape[:2]
        self._first: np.ndarray | None = first

    def _load(self, path: Path) -> np.ndarray:
        frame = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if frame is None:
            raise DataError(f"{path}: cannot be read as an image; remove it from {self.path}.")
        if frame.dtype != np.uint8:  # 16-bit PNGs
            frame = (frame / 257).astype(np.uint8)
        return _rgb(frame)

    def read(self) -> np.ndarray | None:
        if self._next >= len(self.files):
            return None
        path = self.files[self._next]
        self._next += 1
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        frame = self._load(path)
        if frame.shape[:2] != (self.height, self.width):
            raise DataError(
                f"{path}: {frame.shape[1]}x{frame.shape[0]} but the first frame of {self.path} "
                f"is {self.width}x{self.height}; every frame of a folder must have one size."
            )
        return frame


def open_source(spec: str | Path, fps: float | None = None) -> FrameSource:
    """The source ``spec`` names: a camera index (``0``), a folder of frames or a video file.

    Args:
        spec: The INPUT argument.
        fps: Frame rate of a folder (default 30), of a camera or video that reports none.

    Raises:
        MissingFileError: When the path does not exist.
        UserInputError: For a video OpenCV cannot decode, an empty folder, a camera that does not
            open.
    """
    if fps is not None and fps <= 0:
        raise UserInputError(f"--fps must be > 0, got {fps}.")
    text = str(spec)
    if text.isdigit():
        return CameraSource(int(text), fps)
    path = Path(text)
    if path.is_dir():
        return FolderSource(path, fps)
    if not path.exists():
        raise MissingFileError(f"{path}: no such video file or folder; {INPUT_HELP}.")
    return VideoFileSource(path, fps)
