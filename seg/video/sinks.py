"""Where the app's frames go: a video file (``cv2.VideoWriter``, audio muxed back by ffmpeg) or a
folder of PNG frames, written under a temporary name next to the output and moved into place only
when complete.

:func:`check_output` refuses what must never happen before anything is opened: writing over an
input, replacing an earlier output without ``--overwrite``, a folder that cannot be written.
A sink writes to ``.<name>.partial-XXXX`` in the output's folder; :meth:`VideoSink.commit` moves it
onto the output name (``os.replace``, atomic on one file system) and :meth:`VideoSink.abort` (run
in a ``finally``) deletes whatever is left, so a crash or Ctrl-C never leaves a half-written file
under the requested name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from seg.errors import OutputExistsError, UserInputError

FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG"}
FRAME_PATTERN = "frame_{:06d}.png"
FFMPEG_HINT = "pip install imageio-ffmpeg (or install ffmpeg)"


def output_kind(path: str | Path) -> str:
    """``video`` for a video suffix (:data:`FOURCC`), ``frames`` for a folder (a path ending in
    ``/``, an existing folder or a name without suffix).

    Raises:
        UserInputError: For another suffix.
    """
    text, path = str(path), Path(path)
    if path.suffix.lower() in FOURCC and not text.endswith(os.sep):
        return "video"
    if text.endswith(os.sep) or path.is_dir() or not path.suffix:
        return "frames"
    raise UserInputError(
        f"--output {path}: unknown video type '{path.suffix}'; write {', '.join(FOURCC)} or a "
        "folder of PNG frames (a path ending in /)."
    )


def _same(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _our_frames(folder: Path) -> bool:
    """Whether a folder holds nothing but frames this module wrote (safe to replace)."""
    return all(
        p.is_file() and p.name.startswith("frame_") and p.suffix == ".png" for p in folder.iterdir()
    )


def check_output(path: str | Path, inputs: Sequence[Path], overwrite: bool) -> str:
    """Check that ``path`` may be written (its folder is created when the sink opens); returns
    :func:`output_kind`.

    Args:
        path: The requested output.
        inputs: Files and folders read by the run (input video or folder, background file): the
            output may be none of them.
        overwrite: Whether an existing output may be replaced.

    Raises:
        UserInputError: When the output is an input, or its folder cannot be created or written.
        OutputExistsError: When it exists and ``overwrite`` is False.
    """
    kind, path = output_kind(path), Path(path)
    for source in inputs:
        if _same(path, source):
            raise UserInputError(
                f"--output {path} is the input {source}; choose another output path (the input "
                "is never overwritten)."
            )
    if path.exists():
        if not overwrite:
            raise OutputExistsError(
                f"{path} exists; pass --overwrite to replace it or choose another --output."
            )
        if kind == "frames" and not (path.is_dir() and _our_frames(path)):
            raise OutputExistsError(
                f"{path} is not a folder of frames written by scripts/video.py, so --overwrite "
                "does not replace it; choose another --output."
            )
        if kind == "video" and path.is_dir():
            raise OutputExistsError(f"{path} is a folder; choose another --output.")
    parent = path.absolute().parent
    existing = next(p for p in (parent, *parent.parents) if p.exists())
    if not existing.is_dir():
        raise UserInputError(
            f"--output {path}: cannot create its folder {parent}: {existing} is a file; choose "
            "another output path."
        )
    if not os.access(existing, os.W_OK):
        raise UserInputError(
            f"--output {path}: {existing} is not writable; choose another output path."
        )
    return kind


def find_ffmpeg() -> str | None:
    """The ffmpeg executable: imageio-ffmpeg's bundled one, else ``ffmpeg`` on the PATH."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - not installed, or its binary missing for this platform
        return shutil.which("ffmpeg")


def has_audio(ffmpeg: str, media: Path) -> bool:
    """Whether ``media`` has an audio stream (read from ``ffmpeg -i``'s stream list)."""
    probe = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-i", str(media)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "Audio:" in probe.stderr


def mux_audio(ffmpeg: str, video: Path, audio_from: Path, out: Path, seconds: float) -> str | None:
    """Write ``video``'s picture (copied, not re-encoded) with ``audio_from``'s first audio track
    (AAC) cut to ``seconds`` (the video's length: ``-shortest`` drops a copied video's last
    frame) into ``out``; None on success, else ffmpeg's last error line."""
    cmd = [
        ffmpeg, "-y", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(video), "-i", str(audio_from), "-map", "0:v:0", "-map", "1:a:0?",
        "-c:v", "copy", "-c:a", "aac", "-t", f"{seconds:.6f}", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode == 0 and out.is_file() and out.stat().st_size > 0:
        return None
    lines = (done.stderr or "").strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


def _partial(path: Path, suffix: str, folder: bool = False) -> Path:
    """A fresh temporary name next to ``path`` (created, so no other writer takes it; the folder
    is created first)."""
    prefix = f".{path.name}.partial-"
    parent = path.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    if folder:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=parent)
    os.close(fd)
    return Path(name)


class VideoSink:
    """A video written to a temporary file next to ``path``, moved there by :meth:`commit`.

    Args:
        path: The output file (``.mp4``/``.mov``/``.m4v``: MPEG-4 ``mp4v``; ``.avi``: MJPG).
        fps: Frame rate.
        height: Frame height.
        width: Frame width.

    Raises:
        UserInputError: When OpenCV cannot open a writer there.
    """

    def __init__(self, path: Path, fps: float, height: int, width: int) -> None:
        self.path = Path(path)
        self.size = (height - height % 2, width - width % 2)  # what OpenCV's writer keeps
        self.fps = float(fps)
        self.notes: list[str] = []
        if self.size != (height, width):
            self.notes.append(
                f"OpenCV's video writer takes even sizes only: written as {self.size[1]}x"
                f"{self.size[0]} (the last row/column of the {width}x{height} frames dropped); "
                "write a folder of PNG frames to keep every pixel."
            )
        self._temps: list[Path] = []
        self.tmp = self._temp()
        fourcc = cv2.VideoWriter_fourcc(*FOURCC[self.path.suffix.lower()])
        self.writer = cv2.VideoWriter(str(self.tmp), fourcc, float(fps), self.size[::-1])
        if not self.writer.isOpened():
            self.abort()
            raise UserInputError(
                f"--output {self.path}: OpenCV cannot write a {width}x{height} video there "
                f"(codec {FOURCC[self.path.suffix.lower()]}); try another folder or .avi."
            )
        self.frames = 0

    def _temp(self) -> Path:
        try:
            tmp = _partial(self.path, self.path.suffix)
        except OSError as err:
            raise UserInputError(
                f"--output {self.path}: cannot write in {self.path.absolute().parent} "
                f"({err.strerror or err})."
            ) from err
        self._temps.append(tmp)
        return tmp

    def write(self, frame: np.ndarray) -> None:
        """Append an RGB ``uint8`` frame (of the size the sink was opened with)."""
        h, w = self.size
        self.writer.write(cv2.cvtColor(frame[:h, :w], cv2.COLOR_RGB2BGR))
        self.frames += 1

    def commit(self, audio_from: Path | None = None) -> list[str]:
        """Close the file, mux ``audio_from``'s audio in when ffmpeg is there, and move it onto
        the output name; returns notes for the user (how the audio went)."""
        self.writer.release()
        notes = list(self.notes)
        final = self.tmp
        if audio_from is not None:
            ffmpeg = find_ffmpeg()
            if ffmpeg is None:
                notes.append(f"ffmpeg not found, so the output has no audio ({FFMPEG_HINT}).")
            elif not has_audio(ffmpeg, audio_from):
                notes.append(f"{audio_from} has no audio track; the output has none either.")
            else:
                muxed = self._temp()
                error = mux_audio(ffmpeg, self.tmp, audio_from, muxed, self.frames / self.fps)
                if error is None:
                    final = muxed
                    notes.append(f"audio track of {audio_from} kept (AAC).")
                else:
                    notes.append(f"audio could not be kept (ffmpeg: {error}); written without it.")
        os.replace(final, self.path)
        self._temps.remove(final)
        self.abort()
        return notes

    def abort(self) -> None:
        """Release the writer and delete the temporary files (nothing under the output name)."""
        if getattr(self, "writer", None) is not None:
            self.writer.release()
        for tmp in self._temps:
            tmp.unlink(missing_ok=True)
        self._temps = []


class FramesSink:
    """PNG frames (``frame_000000.png``, ...) written into a temporary folder next to ``path`` and
    moved there by :meth:`commit` (an earlier output folder of frames is replaced then)."""

    def __init__(self, path: Path, fps: float, height: int, width: int) -> None:
        self.path = Path(str(path).rstrip(os.sep))
        self.size = (height, width)
        try:
            self.tmp: Path | None = _partial(self.path, "", folder=True)
        except OSError as err:
            raise UserInputError(
                f"--output {self.path}: cannot write in {self.path.absolute().parent} "
                f"({err.strerror or err})."
            ) from err
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Write the next RGB ``uint8`` frame as a PNG (lossless)."""
        target = self.tmp / FRAME_PATTERN.format(self.frames)
        if not cv2.imwrite(str(target), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)):
            raise UserInputError(f"--output {self.path}: cannot write {target.name}.")
        self.frames += 1

    def commit(self, audio_from: Path | None = None) -> list[str]:
        """Move the folder into place (PNG frames carry no audio: ``audio_from`` is ignored)."""
        if self.path.is_dir():
            shutil.rmtree(self.path)  # check_output allowed it: only our frames, --overwrite
        os.replace(self.tmp, self.path)
        self.tmp = None
        return []

    def abort(self) -> None:
        """Delete the temporary folder."""
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def open_sink(kind: str, path: Path, fps: float, height: int, width: int) -> VideoSink | FramesSink:
    """The sink for :func:`output_kind` ``kind``."""
    return (VideoSink if kind == "video" else FramesSink)(path, fps, height, width)
