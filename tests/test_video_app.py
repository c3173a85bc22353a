"""The virtual-background app (seg/video/, scripts/video.py) and its latency benchmark's plumbing
(seg/bench/video_latency.py, scripts/bench_video.py): frames, sizes and frame rates kept, exact
backgrounds, views, stats, audio, and every bad input refused with nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from helpers import ROOT, TINY_STUDENT
from seg.bench.peers import DEFAULT_DIR, missing_reason
from seg.errors import MissingFileError, ModelFileError, OutputExistsError, UserInputError
from seg.models import SegOutput
from seg.video import Compositor, VideoOptions, open_background, run_video
from seg.video import sinks as sinks_module
from seg.video import sources as sources_module
from seg.video.frame_path import FramePath, Segmenter, StageTimes

N, H, W, FPS = 12, 96, 160, 15
GREEN = (0, 255, 0)
PEERS_MISSING = missing_reason(DEFAULT_DIR)


class BrightnessNet(nn.Module):
    """A model with a known answer: person where the frame is bright (logit 40 x (mean - 0.5)),
    so the masks are exactly 0 on the dark texture and 1 on the bright square."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 1)
        with torch.no_grad():
            self.conv.weight.fill_(40.0 / 3.0)
            self.conv.bias.fill_(-20.0)

    def forward(self, x):
        return SegOutput(logits=self.conv(x))


def write_clip(path: Path, n: int = N, h: int = H, w: int = W, fps: float = FPS) -> Path:
    """A bright square moving over a dark texture (mp4v)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    texture = np.random.default_rng(0).integers(0, 90, (h, w, 3), dtype=np.uint8)
    for i in range(n):
        frame = texture.copy()
        x = 10 + 7 * i
        frame[h // 4 : h // 4 + h // 2, x : x + w // 4] = 245
        writer.write(frame)
    writer.release()
    return path


def decode(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def video_info(path: Path) -> tuple[int, int, int, float]:
    capture = cv2.VideoCapture(str(path))
    info = (
        len(decode(path)),
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        capture.get(cv2.CAP_PROP_FPS),
    )
    capture.release()
    return info


def read_png(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """``bright``: BrightnessNet as ONNX (48x64: 4:3, so fit and cover differ from stretch on the
    5:3 clip); ``student``: a tiny untrained student (64x96)."""
    from seg.export.onnx import export_onnx
    from seg.models import StudentNet

    folder = tmp_path_factory.mktemp("video_models")
    torch.manual_seed(0)
    student = StudentNet(**{k: v for k, v in TINY_STUDENT.items() if k != "_target_"}).eval()
    return {
        "bright": export_onnx(
            BrightnessNet(), folder / "bright.onnx", 48, 64, exporter="torchscript"
        ),
        "student": export_onnx(student, folder / "student.onnx", 64, 96, exporter="torchscript"),
    }


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("video_clip") / "clip.mp4")


def options(clip: Path, model: Path, output: Path, **kw) -> VideoOptions:
    kw.setdefault("quiet", True)
    return VideoOptions(input=str(clip), model=str(model), output=str(output), **kw)


def leftovers(folder: Path) -> list[str]:
    """Files a run may have left in ``folder`` (partial outputs are hidden ``.*.partial-*``)."""
    return sorted(
        p.name for p in folder.iterdir() if "partial" in p.name or p.name.startswith("out")
    )


# ------------------------------------------------------------------------------------ outputs


def test_output_keeps_frame_count_size_and_fps(clip, models, tmp_path):
    out = tmp_path / "out.mp4"
    stats = run_video(options(clip, models["student"], out), echo=lambda _: None)
    assert video_info(out) == (N, H, W, pytest.approx(FPS, abs=0.01))
    assert stats["frames"] == N and stats["size"] == [H, W] and stats["output_size"] == [H, W]
    assert leftovers(tmp_path) == ["out.mp4"]  # no partial file left next to it


def test_colour_background_is_exact_where_the_mask_is_zero(clip, models, tmp_path):
    """Lossless PNG outputs: the mask view and the composite of the same frames; wherever the
    mask is 0 the composite is exactly the colour, wherever it is 1 exactly the input frame."""
    common = dict(postprocess="none")
    run_video(options(clip, models["bright"], tmp_path / "masks", view="mask", **common), print)
    run_video(
        options(clip, models["bright"], tmp_path / "comp", background="color:#00FF00", **common),
        print,
    )
    frames = decode(clip)
    mask_files = sorted((tmp_path / "masks").glob("frame_*.png"))
    comp_files = sorted((tmp_path / "comp").glob("frame_*.png"))
    assert len(mask_files) == len(comp_files) == len(frames) == N
    for frame, mask_file, comp_file in zip(frames, mask_files, comp_files, strict=True):
        mask, comp = read_png(mask_file)[..., 0], read_png(comp_file)
        assert comp.shape == frame.shape == (H, W, 3)
        background, person = mask == 0, mask == 255
        assert background.mean() > 0.5 and person.mean() > 0.05  # the square is the person
        assert (comp[background] == GREEN).all()
        assert (comp[person] == frame[person]).all()
    # the same run into an mp4: the background is the colour up to compression error
    out = tmp_path / "comp.mp4"
    run_video(options(clip, models["bright"], out, background="color:#00FF00", **common), print)
    first = decode(out)[0].astype(int)
    corner = first[:10, :8]  # the square never reaches the top-left corner
    assert np.abs(corner - GREEN).mean() < 6


def test_compositor_blends_exactly():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    background = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    alpha = np.zeros((30, 40), np.float32)
    alpha[:, 20:] = 1.0
    alpha[:, 30:] = 0.5
    out = Compositor()(frame, alpha, background)
    assert (out[:, :20] == background[:, :20]).all()
    assert (out[:, 20:30] == frame[:, 20:30]).all()
    mid = (frame[:, 30:].astype(int) + background[:, 30:]) / 2
    assert np.abs(out[:, 30:] - mid).max() <= 1.0
    person = np.zeros((120, 160), np.float32)
    person[:, 80:] = 1.0
    wrapped = Compositor(light_wrap=True).wrap(person)
    assert (wrapped <= person + 1e-6).all()  # light only bleeds in, never out
    assert (wrapped[:, :80] == 0).all() and (wrapped[:, 150:] > 0.99).all()  # far from the edge
    assert (wrapped[:, 80] < 0.9).all() and (wrapped[:, 84] > wrapped[:, 80]).all()  # at the edge


def test_backgrounds(tmp_path):
    rng = np.random.default_rng(2)
    frame = rng.integers(0, 256, (72, 128, 3), dtype=np.uint8)
    blurred = open_background("blur").render(frame)
    assert blurred.shape == frame.shape and blurred.dtype == np.uint8
    assert (
        np.abs(np.diff(blurred.astype(int), axis=1)).mean()
        < 0.2 * np.abs(np.diff(frame.astype(int), axis=1)).mean()
    )
    tall = np.zeros((100, 20, 3), np.uint8)
    tall[:, :, 2] = 200
    cv2.imwrite(str(tmp_path / "bg.png"), tall)  # BGR: a red picture
    image = open_background(str(tmp_path / "bg.png")).render(frame)
    assert image.shape == frame.shape and (image[..., 0] == 200).all()  # cover: no padding
    bg_clip = write_clip(tmp_path / "bg.mp4", n=3, h=40, w=40)
    video = open_background(str(bg_clip))
    renders = [video.render(frame) for _ in range(7)]  # 3 frames, looped
    assert all(r.shape == frame.shape for r in renders)
    assert np.array_equal(renders[0], renders[3]) and np.array_equal(renders[1], renders[4])
    with pytest.raises(UserInputError, match="six hex digits"):
        open_background("color:#12345")


def test_stats_json_has_every_key_with_sane_values(clip, models, tmp_path):
    stats_path = tmp_path / "stats.json"
    run_video(
        options(clip, models["bright"], tmp_path / "out.mp4", stats=stats_path, postprocess="none"),
        print,
    )
    stats = json.loads(stats_path.read_text())
    for key in ("frames", "fps", "ms", "flicker", "flip_rate", "tc", "model", "input", "size",
                "postprocess", "threads", "cpu"):  # fmt: skip
        assert key in stats, key
    assert stats["frames"] == N and stats["size"] == [H, W] and stats["threads"] == 1
    assert set(stats["ms"]) == {"decode", "resize", "model", "postprocess", "composite",
                                "encode", "metrics"}  # fmt: skip
    for stage in stats["ms"].values():
        assert 0 <= stage["mean"] < 1000 and stage["p90"] >= 0
    path_ms = sum(stats["ms"][s]["mean"] for s in ("resize", "model", "postprocess", "composite"))
    assert stats["fps"] == pytest.approx(1000 / path_ms, rel=0.01)
    # the square moves 7 px a frame: some pixels flip every frame, most do not
    assert 0.0 < stats["flip_rate"] < 0.2 and 0.0 < stats["flicker"] < 0.2
    assert 0.5 < stats["tc"] <= 1.0
    assert stats["model"] == "bright.onnx" and stats["input"] == str(clip)
    assert stats["postprocess"]["feather_px"] == 0.0 and stats["cpu"]


def test_views_and_compare(clip, models, tmp_path):
    side = tmp_path / "side.mp4"
    run_video(options(clip, models["bright"], side, view="side-by-side", max_frames=3), print)
    assert video_info(side)[:3] == (3, H, 3 * W)
    both = tmp_path / "both"
    stats = run_video(
        options(clip, models["bright"], both, compare=str(models["student"]), max_frames=2), print
    )
    tiles = read_png(both / "frame_000001.png")
    assert tiles.shape == (H, 2 * W, 3)
    assert stats["compare"]["model"].endswith("/student.onnx") and stats["frames"] == 2
    two_rows = tmp_path / "rows"
    run_video(
        options(
            clip,
            models["bright"],
            two_rows,
            compare=str(models["student"]),
            view="side-by-side",
            max_frames=1,
        ),
        print,
    )
    assert read_png(two_rows / "frame_000000.png").shape == (2 * H, 3 * W, 3)


@pytest.mark.parametrize("mode", ["fit", "cover"])
def test_fit_and_cover_keep_the_frame_geometry(clip, models, tmp_path, mode):
    out = tmp_path / "out"
    run_video(
        options(clip, models["bright"], out, resize=mode, postprocess="none", view="mask"), print
    )
    masks = [read_png(p)[..., 0] for p in sorted(out.glob("*.png"))]
    frames = decode(clip)
    seen = slice(16, W - 16)  # what cover shows the 4:3 model of the 5:3 frame
    for mask, frame in zip(masks, frames, strict=True):  # the mask follows the bright square
        assert mask.shape == (H, W)
        mask, frame = mask[:, seen], frame[:, seen]
        bright, dark = frame.mean(axis=2) > 200, frame.max(axis=2) < 90
        assert (mask[bright] > 127).mean() > 0.9 and (mask[dark] < 64).mean() > 0.95


def test_low_res_probs_stay_small():
    class Fake:  # the geometry of a Predictor
        height, width, resize = 48, 80, "fit"

    seg = Segmenter(Fake(), None, "fake")  # type: ignore[arg-type]
    out = np.random.default_rng(0).random((1, 1, 48, 80), dtype=np.float32)
    assert seg.low_res_probs(out, (480, 640)).shape == (48, 64)  # 4:3 inside 5:3
    Fake.resize = "cover"
    assert seg.low_res_probs(out, (480, 640)).shape == (60, 80)
    Fake.resize = "stretch"
    assert seg.low_res_probs(out, (480, 640)).shape == (48, 80)


def test_folder_input_and_own_postprocess_settings(clip, models, tmp_path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for i, frame in enumerate(decode(clip)[:5]):
        cv2.imwrite(str(frames_dir / f"{i:03d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (frames_dir / "notes.txt").write_text("not a frame")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    model = model_dir / "student.onnx"
    model.write_bytes(models["bright"].read_bytes())
    (model_dir / "student.postprocess.json").write_text(json.dumps({"feather_px": 2.5}))
    lines: list[str] = []
    out = tmp_path / "out.mp4"
    stats = run_video(options(frames_dir, model, out, fps=10, pp=["min_area=0"]), lines.append)
    assert video_info(out) == (5, H, W, pytest.approx(10.0, abs=0.01))
    assert "the model's own" in lines[0] and "min_area=0" in lines[0]
    assert stats["postprocess"]["feather_px"] == 2.5 and stats["postprocess"]["min_area"] == 0
    assert stats["model"] == "model/student.onnx" and stats["input_kind"] == "frames"
    default = run_video(
        options(clip, models["bright"], tmp_path / "d.mp4", max_frames=1), lines.append
    )
    assert default["postprocess_source"] == "default preset"


def test_odd_sizes_are_cropped_to_even_for_video_with_a_note(models, tmp_path):
    frames_dir = tmp_path / "odd"
    frames_dir.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames_dir / f"{i}.png"), np.full((33, 45, 3), 60 * i, np.uint8))
    lines: list[str] = []
    stats = run_video(options(frames_dir, models["bright"], tmp_path / "o.mp4"), lines.append)
    assert video_info(tmp_path / "o.mp4")[:3] == (3, 32, 44) and stats["output_size"] == [32, 44]
    assert any("even sizes only" in x for x in lines)
    run_video(options(frames_dir, models["bright"], tmp_path / "png"), lines.append)
    assert read_png(tmp_path / "png" / "frame_000002.png").shape == (33, 45, 3)


# ------------------------------------------------------------------------------ audio


def test_audio_is_kept_when_ffmpeg_is_there(models, tmp_path):
    ffmpeg = sinks_module.find_ffmpeg()
    if ffmpeg is None:
        pytest.skip("no ffmpeg (pip install imageio-ffmpeg)")
    silent = write_clip(tmp_path / "silent.mp4")
    with_audio = tmp_path / "talk.mp4"
    subprocess.run(
        [ffmpeg, "-y", "-loglevel", "error", "-i", str(silent), "-f", "lavfi", "-i",
         "sine=frequency=440:duration=1", "-c:v", "copy", "-c:a", "aac", "-shortest",
         str(with_audio)],
        check=True,
    )  # fmt: skip
    lines: list[str] = []
    out = tmp_path / "out.mp4"
    run_video(options(with_audio, models["bright"], out), lines.append)
    assert sinks_module.has_audio(ffmpeg, out) and any("audio track of" in x for x in lines)
    assert video_info(out)[0] == N
    run_video(options(silent, models["bright"], tmp_path / "out2.mp4"), lines.append)
    assert any("has no audio track" in x for x in lines)


def test_missing_ffmpeg_is_a_note_not_an_error(clip, models, tmp_path, monkeypatch):
    monkeypatch.setattr(sinks_module, "find_ffmpeg", lambda: None)
    lines: list[str] = []
    out = tmp_path / "out.mp4"
    run_video(options(clip, models["bright"], out), lines.append)
    assert out.is_file() and any("ffmpeg not found" in x for x in lines)


# ------------------------------------------------------------------------------ bad input


def test_bad_inputs_are_refused_with_nothing_written(clip, models, tmp_path):
    out = tmp_path / "out.mp4"
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    no_images = tmp_path / "no_images"
    no_images.mkdir()
    (no_images / "readme.txt").write_text("x")
    text_model = tmp_path / "model.txt"
    text_model.write_text("hello")
    cases = [
        (dict(input=str(garbage)), UserInputError, r"garbage\.mp4.*(cannot open|no frame)"),
        (dict(input=str(empty)), UserInputError, r"empty\.mp4.*(cannot open|no frame)"),
        (dict(input=str(no_images)), UserInputError, r"no_images: the folder holds no image"),
        (dict(input=str(tmp_path / "nope.mp4")), MissingFileError, r"nope\.mp4: no such video"),
        (dict(input="57"), UserInputError, r"camera 57 cannot be opened"),
        (dict(background=str(tmp_path / "beach.jpg")), MissingFileError, r"beach\.jpg: no such"),
        (dict(model=str(text_model)), ModelFileError, r"model\.txt: unknown model file type"),
        (dict(model=str(tmp_path / "gone.onnx")), MissingFileError, r"gone\.onnx"),
        (dict(output=str(clip)), UserInputError, r"is the input .*never overwritten"),
        (dict(output=str(tmp_path / "out.webp")), UserInputError, r"unknown video type"),
        (dict(output=str(text_model / "x.mp4")), UserInputError, r"model\.txt is a file"),
        (dict(pp=["no_such_key=1"]), UserInputError, r"no_such_key"),
        (dict(threads=-1), UserInputError, r"--threads"),
    ]
    for change, error, message in cases:
        kw = dict(input=str(clip), model=str(models["bright"]), output=str(out), quiet=True)
        kw.update(change)
        with pytest.raises(error, match=message):
            run_video(VideoOptions(**kw), print)
        assert not out.exists(), change
        assert leftovers(tmp_path) == [], change


def test_mediapipe_names_without_peer_files_say_make_peers(clip, tmp_path):
    out = tmp_path / "out.mp4"
    with pytest.raises(MissingFileError, match="make peers"):
        run_video(options(clip, "mediapipe_landscape", out, peers_dir=tmp_path), print)
    assert not out.exists()


def test_existing_output_needs_overwrite(clip, models, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"earlier")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        run_video(options(clip, models["bright"], out), print)
    assert out.read_bytes() == b"earlier"
    run_video(options(clip, models["bright"], out, overwrite=True, max_frames=2), print)
    assert video_info(out)[0] == 2
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="not a folder of frames"):
        run_video(options(clip, models["bright"], folder, overwrite=True), print)
    assert (folder / "precious.txt").read_text() == "keep"


@pytest.mark.parametrize("where", ["sink", "source", "interrupt"])
def test_a_crash_mid_way_leaves_no_output(clip, models, tmp_path, monkeypatch, where):
    calls = {"n": 0}
    failure = KeyboardInterrupt if where == "interrupt" else RuntimeError("disk on fire")

    def after_three(original):
        def wrapped(self, *args):
            calls["n"] += 1
            if calls["n"] > 3:
                raise failure
            return original(self, *args)

        return wrapped

    if where == "sink":
        monkeypatch.setattr(
            sinks_module.VideoSink, "write", after_three(sinks_module.VideoSink.write)
        )
    else:
        cls = sources_module.VideoFileSource
        monkeypatch.setattr(cls, "read", after_three(cls.read))
    out = tmp_path / "out.mp4"
    if where == "interrupt":
        with pytest.raises(UserInputError, match=r"interrupted \(Ctrl-C\) after 3 frames"):
            run_video(options(clip, models["bright"], out), print)
    else:
        with pytest.raises(RuntimeError, match="disk on fire"):
            run_video(options(clip, models["bright"], out), print)
    assert calls["n"] == 4
    assert not out.exists() and leftovers(tmp_path) == []


# ------------------------------------------------------------------------------ MediaPipe


@pytest.mark.skipif(PEERS_MISSING is not None, reason=f"peer models unavailable: {PEERS_MISSING}")
def test_mediapipe_landscape_runs_in_the_app_and_compares(clip, models, tmp_path):
    out = tmp_path / "mp"
    stats = run_video(
        options(clip, "mediapipe_landscape", out, compare=str(models["bright"]), max_frames=2),
        print,
    )
    assert stats["model"] == "mediapipe_landscape" and stats["model_input"] == [144, 256]
    assert read_png(out / "frame_000000.png").shape == (H, 2 * W, 3)


# ------------------------------------------------------------------------------ timing


def test_stage_times_and_frame_path(models):
    from seg.inference import load_predictor
    from seg.postprocess import load_postprocess

    predictor = load_predictor(models["bright"], threads=1, batch_size=1)
    path = FramePath(
        [Segmenter(predictor, load_postprocess("default"), "b")], open_background("blur")
    )
    times = StageTimes()
    frame = np.zeros((72, 128, 3), np.uint8)
    for _ in range(3):
        out, alphas = path(frame, times)
        times.end_frame()
    assert out.shape == frame.shape and alphas[0].shape == (72, 128)
    summary = times.summary()
    assert set(summary) == {"resize", "model", "postprocess", "composite"}
    assert len(times.path_ms()) == 3 and (times.path_ms() > 0).all()


def test_bench_section_replaces_only_its_own_part(tmp_path, models):
    from seg.bench import video_latency as vl

    options = vl.VideoBenchOptions(
        models=[("bright", models["bright"])],
        untrained=[],
        sizes=[(48, 64)],
        threads=[1],
        presets=["default", "none"],
        repeats=2,
        iters=3,
        warmup=1,
        rounds=1,
        clip_frames=3,
        peers_dir=tmp_path,  # no peers here: a note instead of MediaPipe rows
    )
    result = vl.run_video_benchmark(options, echo=lambda _: None)
    assert len(result.rows) == 2 and len(result.codec) == 1
    for row in result.rows:
        assert row["total_ms"] > 0 and row["total_std"] >= 0 and row["fps"] > 0
        parts = sum(row[f"{s}_ms"] for s in vl.STAGE_COLUMNS)
        assert row["total_ms"] == pytest.approx(parts, rel=1e-3)
    assert any("make peers" in n for n in result.notes)
    doc = tmp_path / "video.md"
    doc.write_text(
        "# Video\n\nintro\n\n## End-to-end latency\n\nold numbers\n\n## Evidence\n\nkeep\n"
    )
    vl.write_section(doc, vl.section_lines(result, options, ["--repeats", "2"]))
    text = doc.read_text()
    assert "old numbers" not in text and "intro" in text and "## Evidence\n\nkeep" in text
    assert (
        "`python scripts/bench_video.py --repeats 2`" in text and "| bright | 64x48 | 1 |" in text
    )
    assert text.count(vl.SECTION) == 1


# ------------------------------------------------------------------------------ command lines


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_video_script_command_line(clip, models, tmp_path):
    out = tmp_path / "out.mp4"
    done = run_script(
        "scripts/video.py", str(clip), "--model", str(models["bright"]), "--output", str(out),
        "--background", "color:#0000FF", "--max-frames", "4",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and video_info(out)[0] == 4
    assert "frame/s" not in done.stderr  # no progress bar off a terminal


def test_errors_print_one_line_and_exit_1(clip, models, tmp_path, capsys):
    """What scripts/video.py does with a user error (seg.cli.run around the same call)."""
    from seg import cli

    out = tmp_path / "out.mp4"
    out.write_bytes(b"x")
    status = cli.run(lambda argv: run_video(options(clip, models["bright"], out)), [])
    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"error: {out} exists; pass --overwrite to replace it or choose another --output."
    )


def test_bench_video_script_fast(models, tmp_path):
    done = run_script(
        "scripts/bench_video.py", "--fast", "--untrained", "--model", f"bright={models['bright']}",
        "--sizes", "48x64", "--peers-dir", str(tmp_path), "--json", str(tmp_path / "rows.json"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| bright | 64x48 | 1 | default |" in done.stdout
    assert json.loads((tmp_path / "rows.json").read_text())["rows"][0]["model"] == "bright"


def test_busy_note_counts_other_work_not_the_benchmark_itself():
    import threading

    from seg.bench.video_latency import busy_note
    from seg.utils import cpu_busy_cores

    assert busy_note(0.1, None) is None and busy_note(None, None) is None
    cores = os.cpu_count() or 1
    note = busy_note(0.2, 0.3 * cores + 0.1)
    assert note is not None and "rerun on a quiet machine" in note
    stop = threading.Event()

    def spin():  # pure-Python busy loop: holds one core (the sampler itself sleeps)
        while not stop.is_set():
            pass

    worker = threading.Thread(target=spin)
    worker.start()
    try:
        busy = cpu_busy_cores(0.5)
    finally:
        stop.set()
        worker.join()
    assert busy is not None and busy >= 0.7  # the spinning thread is seen while the caller sleeps
