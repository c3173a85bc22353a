"""seg.bench's latency benchmark: fast-mode runs with and without the MediaPipe peers, the
MAC/parameter counters against hand computations, the timing helpers, and one run of the real
``scripts/benchmark.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from helpers import ROOT, TINY_STUDENT
from seg.bench import latency_report
from seg.bench.candidates import candidate_from_path, like_trained
from seg.bench.latency_suite import run_latency_benchmark
from seg.bench.macs import onnx_cost
from seg.bench.measure import measure_iou
from seg.bench.options import LatencyOptions, parse_model, parse_size, resolve
from seg.bench.peers import DEFAULT_DIR, PEERS, find_peers, missing_reason
from seg.errors import MissingFileError, UserInputError
from seg.timing import time_fn

TINY = dict(TINY_STUDENT)
KEYS = {"model", "precision", "height", "width", "threads", "median_ms", "p90_ms", "params", "macs"}
PEERS_MISSING = missing_reason(DEFAULT_DIR)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, object]:
    """A run folder with a tiny untrained student: student.pt, student.onnx (64x96), int8."""
    from seg.export.onnx import export_onnx
    from seg.export.quantize import quantize_int8
    from seg.models import StudentNet, save_model

    folder = tmp_path_factory.mktemp("tiny_run")
    net = StudentNet(**{k: v for k, v in TINY.items() if k != "_target_"}).eval()
    like_trained(net)  # non-zero biases: the exporter drops all-zero ones
    save_model(folder / "student.pt", net, TINY)
    fp32 = export_onnx(net, folder / "student.onnx", 64, 96, metadata={"test_iou": 0.5})
    calibration = np.random.default_rng(0).random((4, 3, 64, 96), dtype=np.float32)
    quantize_int8(fp32, folder / "student.int8.onnx", calibration)
    return folder, net


def outputs(tmp_path: Path) -> list[str]:
    return [
        "--json",
        str(tmp_path / "out.json"),
        "--markdown",
        str(tmp_path / "bench.md"),
        "--plot",
        str(tmp_path / "img" / "plot.png"),
    ]


def write_outputs(result, tmp_path: Path, argv: list[str]) -> list[dict]:
    """What scripts/benchmark.py writes for ``result``; returns the rows read back from JSON."""
    lines = latency_report.markdown_lines(
        result.rows, result.options, argv, result.notes, result.load
    )
    latency_report.write_markdown(tmp_path / "bench.md", lines)
    latency_report.write_json(tmp_path / "out.json", result.rows)
    latency_report.write_plot(tmp_path / "img" / "plot.png", result.rows)
    return json.loads((tmp_path / "out.json").read_text())


def check_rows(rows: list[dict]) -> None:
    for row in rows:
        assert set(row) >= KEYS and "test_iou" in row, row
        assert row["median_ms"] > 0 and row["p90_ms"] >= row["median_ms"], row
        assert row["params"] > 0 and row["macs"] > 0, row
        assert row["threads"] == 1 and row["precision"] in {"fp32", "int8"}


def test_fast_without_peers(tiny_run, tmp_path, capsys):
    from seg.models import describe

    folder, net = tiny_run
    empty = tmp_path / "no_peers"
    empty.mkdir()
    options = LatencyOptions(
        models=[("tiny", folder)], fast=True, peers_dir=empty, peer_res=[(72, 128)]
    )
    result = run_latency_benchmark(options)
    printed = capsys.readouterr().out
    assert "make peers" in printed
    argv = [
        "--fast",
        "--model",
        f"tiny={folder}",
        "--peers-dir",
        str(empty),
        "--peer-res",
        "72x128",
    ]
    rows = write_outputs(result, tmp_path, argv)
    assert rows == result.rows
    check_rows(rows)
    got = {(r["precision"], r["height"], r["width"]) for r in rows}
    assert got == {("fp32", 64, 96), ("int8", 64, 96), ("fp32", 72, 128), ("int8", 72, 128)}
    assert not any(r["model"].startswith("mediapipe") for r in rows)

    native = {r["precision"]: r for r in rows if (r["height"], r["width"]) == (64, 96)}
    cost = onnx_cost(folder / "student.onnx")
    assert (native["fp32"]["params"], native["fp32"]["macs"]) == (cost.params, cost.macs)
    assert native["fp32"]["test_iou"] == 0.5  # from the graph's metadata
    assert native["int8"]["test_iou"] is None  # never the fp32 figure copied into the int8 file
    # the int8 graph holds the same weights (as int8) and does the same convolutions
    assert native["int8"]["macs"] == cost.macs
    assert native["int8"]["params"] == cost.params
    # the graph counter agrees with the PyTorch FLOP counter on the student; parameters differ
    # by the batch-norm channels only (BN folded into the convolutions: one bias per channel
    # in the graph where PyTorch has a BN weight and bias)
    summary = describe(net, 64, 96)
    assert native["fp32"]["macs"] == pytest.approx(summary.macs, rel=0.03)
    bn = sum(m.num_features for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert native["fp32"]["params"] == summary.params - bn
    bigger = next(r for r in rows if (r["precision"], r["height"]) == ("fp32", 72))
    assert bigger["params"] == cost.params and bigger["macs"] > cost.macs

    text = (tmp_path / "bench.md").read_text()
    assert "Command: `python scripts/benchmark.py --fast" in text
    assert "make peers" in text and "onnxruntime" in text and "CPU:" in text
    assert "| tiny | int8 | 72x128 | 1 |" in text
    assert (tmp_path / "img" / "plot.png").stat().st_size > 0


@pytest.mark.skipif(PEERS_MISSING is not None, reason=f"peer models unavailable: {PEERS_MISSING}")
def test_fast_with_peers(tiny_run, tmp_path):
    folder, _ = tiny_run
    options = LatencyOptions(
        models=[("tiny", folder / "student.onnx")],
        fast=True,
        no_peer_res=True,
        peers_dir=DEFAULT_DIR,
    )
    result = run_latency_benchmark(options)
    argv = ["--fast", "--model", f"tiny={folder / 'student.onnx'}", "--no-peer-res"]
    rows = write_outputs(result, tmp_path, argv)
    check_rows(rows)
    peers = {r["model"]: r for r in rows if r["model"].startswith("mediapipe")}
    assert set(peers) == {"mediapipe_landscape", "mediapipe_general"}
    assert (peers["mediapipe_landscape"]["height"], peers["mediapipe_landscape"]["width"]) == (
        144,
        256,
    )
    assert (peers["mediapipe_general"]["height"], peers["mediapipe_general"]["width"]) == (256, 256)
    for row in peers.values():
        assert row["precision"] == "fp32"
        assert 100_000 <= row["params"] <= 112_000  # model card: ~106K parameters
    assert peers["mediapipe_landscape"]["ratio_vs_landscape"] == 1.0
    assert peers["mediapipe_general"]["macs"] > peers["mediapipe_landscape"]["macs"]
    assert {r["model"] for r in rows} == {"tiny", *peers}
    assert "fp16" in (tmp_path / "bench.md").read_text()


@pytest.mark.skipif(PEERS_MISSING is not None, reason=f"peer models unavailable: {PEERS_MISSING}")
def test_tflite_counter_on_peers():
    from seg.bench.macs import tflite_cost

    found = find_peers(DEFAULT_DIR)
    landscape = tflite_cost(found[PEERS[0].name])
    general = tflite_cost(found[PEERS[1].name])
    assert landscape.params == general.params  # same network, other input size
    assert 100_000 <= landscape.params <= 112_000
    # the same layers on 256x256 instead of 144x256 pixels
    assert general.macs == pytest.approx(landscape.macs * 256 / 144, rel=0.02)
    # the 2x2 stride-2 transposed conv 16 -> 1 channels on the 72x128 map
    assert landscape.by_op["Convolution2DTransposeBias"] == 72 * 128 * 16 * 1 * 2 * 2


def test_bad_model_path_names_what_was_expected(tmp_path):
    with pytest.raises(MissingFileError, match=r"no_onnx_here.*student\.onnx"):
        candidate_from_path("x", tmp_path / "no_onnx_here")
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(MissingFileError, match=r"has no student\.onnx"):
        candidate_from_path("x", folder)
    (folder / "student.pt").write_bytes(b"")
    with pytest.raises(UserInputError, match=r"expected a \.onnx file"):
        candidate_from_path("x", folder / "student.pt")
    with pytest.raises(UserInputError, match="NAME=PATH"):
        parse_model("no-equals-sign")
    assert parse_model("a=b/c.onnx") == ("a", Path("b/c.onnx"))


def test_options_defaults_and_checks():
    fast = resolve(LatencyOptions(fast=True, no_peer_res=True))
    assert (fast.threads, fast.iters, fast.warmup, fast.rounds) == ([1], 5, 1, 1)
    assert (fast.iou_frames, fast.calibration_frames, fast.peer_res) == (0, 8, [])
    assert fast.untrained is None  # no --model: the default untrained students
    full = resolve(LatencyOptions(models=[("m", Path("m.onnx"))]))
    assert (full.threads, full.iters, full.warmup, full.rounds) == ([1, 2], 200, 20, 10)
    assert (full.iou_frames, full.calibration_frames) == (200, 64)
    assert full.peer_res == [(144, 256), (256, 256)] and full.untrained == []
    with pytest.raises(UserInputError, match="--rounds"):
        resolve(LatencyOptions(rounds=0))
    with pytest.raises(UserInputError, match="--threads"):
        resolve(LatencyOptions(threads=[0]))
    with pytest.raises(UserInputError, match="--iters"):
        resolve(LatencyOptions(iters=0))
    assert parse_size("144X256") == (144, 256)
    for bad in ("big", "0x5", "1x2x3"):
        with pytest.raises(UserInputError, match="size must"):
            parse_size(bad)


def test_measure_iou_resizes_frames_both_ways(tiny_run):
    from seg.bench.candidates import Graph
    from seg.inference import load_predictor

    folder, _ = tiny_run
    graph = Graph("tiny", "fp32", 64, 96, folder / "student.onnx", "onnx")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 50, 80, 3), dtype=np.uint8)
    probs = load_predictor(graph.path)(images)
    assert probs.shape == (3, 50, 80)
    pred = probs > 0.5
    assert measure_iou(graph, images, pred.astype(np.uint8)) == 1.0
    assert measure_iou(graph, images, ~pred) == 0.0  # disjoint, their union is every pixel
    inter, union = (pred & pred[::-1]).sum(), (pred | pred[::-1]).sum()
    expected = 1.0 if union == 0 else inter / union
    assert measure_iou(graph, images, pred[::-1]) == pytest.approx(expected)


def test_cli_end_to_end(tiny_run, tmp_path):
    """The real script: exit code 0 and its three files; a user error is one line and exit 1."""
    folder, _ = tiny_run
    empty = tmp_path / "no_peers"
    empty.mkdir()
    cmd = [sys.executable, "scripts/benchmark.py", "--fast", "--peers-dir", str(empty)]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*cmd, *args, *outputs(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=240,
        )

    done = run("--model", f"tiny={folder}", "--no-peer-res")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads((tmp_path / "out.json").read_text())
    check_rows(rows)
    assert {(r["model"], r["precision"], r["height"], r["width"]) for r in rows} == {
        ("tiny", "fp32", 64, 96),
        ("tiny", "int8", 64, 96),
    }
    text = (tmp_path / "bench.md").read_text()
    assert (
        "Command: `python scripts/benchmark.py --fast" in text and "| tiny | fp32 | 64x96 |" in text
    )
    assert (tmp_path / "img" / "plot.png").stat().st_size > 0
    assert "make peers" in done.stdout and f"wrote {tmp_path / 'bench.md'}" in done.stdout

    missing = run("--model", f"x={tmp_path / 'no_onnx_here'}")
    assert missing.returncode == 1
    assert "error: --model x=" in missing.stderr and "no_onnx_here" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = run("--model", "no-equals-sign")
    assert bad.returncode == 2 and "NAME=PATH" in bad.stderr


def _model(nodes, inits, inp, out) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, inp)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out)],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def test_onnx_mac_counter_by_hand(tmp_path):
    w = np.zeros((8, 3, 3, 3))
    b = np.zeros(8)
    conv = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])
    cost = onnx_cost(_model([conv], {"w": w, "b": b}, [1, 3, 8, 8], [1, 8, 8, 8]))
    assert cost.macs == 8 * 8 * 8 * 27
    assert cost.params == 8 * 27 + 8

    # depthwise (groups = 8) stride 2, then a 1x1 conv, the weights shared once
    nodes = [
        helper.make_node("Conv", ["x", "dw"], ["h"], group=8, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["h", "pw"], ["y"]),
    ]
    inits = {"dw": np.zeros((8, 1, 3, 3)), "pw": np.zeros((4, 8, 1, 1))}
    cost = onnx_cost(_model(nodes, inits, [1, 8, 16, 16], [1, 4, 8, 8]))
    assert cost.macs == 8 * 8 * 8 * 9 + 4 * 8 * 8 * 8
    assert cost.params == 8 * 9 + 4 * 8

    # transposed conv 4 -> 2 channels, k2 s2 on 4x4: every input pixel feeds 2 * 2 * 2 outputs
    nodes = [helper.make_node("ConvTranspose", ["x", "t"], ["y"], strides=[2, 2])]
    cost = onnx_cost(_model(nodes, {"t": np.zeros((4, 2, 2, 2))}, [1, 4, 4, 4], [1, 2, 8, 8]))
    assert cost.macs == 4 * 4 * 4 * (2 * 2 * 2)
    assert cost.params == 4 * 2 * 2 * 2

    # MatMul 5x6 @ 6x7 and Gemm 1x7 -> 3 (+ bias)
    nodes = [
        helper.make_node("MatMul", ["x", "m"], ["h"]),
        helper.make_node("Gemm", ["h", "g", "gb"], ["y"], transB=1),
    ]
    inits = {"m": np.zeros((6, 7)), "g": np.zeros((3, 7)), "gb": np.zeros(3)}
    cost = onnx_cost(_model(nodes, inits, [5, 6], [5, 3]))
    assert cost.macs == 5 * 7 * 6 + 5 * 3 * 7
    assert cost.params == 6 * 7 + 3 * 7 + 3

    path = tmp_path / "conv.onnx"
    onnx.save(_model([conv], {"w": w, "b": b}, [1, 3, 8, 8], [1, 8, 8, 8]), str(path))
    assert onnx_cost(path).macs == 8 * 8 * 8 * 27


def test_time_fn_reports_median_and_p90():
    calls = []
    median, p90 = time_fn(lambda: calls.append(sum(range(2000))), iters=30, warmup=3)
    assert len(calls) == 33
    assert 0 < median <= p90
    with pytest.raises(ValueError, match="iters"):
        time_fn(lambda: None, iters=0)


def test_time_interleaved_gives_each_callable_its_runs():
    from seg.timing import time_interleaved

    calls = {"a": 0, "b": 0}

    def a():
        calls["a"] += 1

    def b():
        calls["b"] += 1
        sum(range(20000))  # clearly slower than a

    (ma, pa), (mb, pb) = time_interleaved([a, b], iters=25, warmup=2, rounds=4)
    assert calls == {"a": 27, "b": 27}  # 25 timed runs split over 4 rounds + 2 warm-up each
    assert 0 < ma <= pa and 0 < mb <= pb and mb > ma
    with pytest.raises(ValueError, match="rounds"):
        time_interleaved([a], rounds=0)
