"""scripts/benchmark.py and seg.bench: fast-mode runs with and without the MediaPipe peers, the
MAC/parameter counters against hand computations, and the timing helper."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from helpers import TINY_STUDENT, load_script
from seg.bench.latency import time_fn
from seg.bench.macs import onnx_cost
from seg.bench.peers import DEFAULT_DIR, PEERS, find_peers, missing_reason

TINY = dict(TINY_STUDENT)
KEYS = {"model", "precision", "height", "width", "threads", "median_ms", "p90_ms", "params", "macs"}
PEERS_MISSING = missing_reason(DEFAULT_DIR)


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmark")


@pytest.fixture(scope="module")
def tiny_run(bench, tmp_path_factory) -> tuple[Path, object]:
    """A run folder with a tiny untrained student: student.pt, student.onnx (64x96), int8."""
    from seg.export.onnx import export_onnx
    from seg.export.quantize import quantize_int8
    from seg.models import StudentNet, save_model

    folder = tmp_path_factory.mktemp("tiny_run")
    net = StudentNet(**{k: v for k, v in TINY.items() if k != "_target_"}).eval()
    bench.like_trained(net)  # non-zero biases: the exporter drops all-zero ones
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


def check_rows(rows: list[dict]) -> None:
    for row in rows:
        assert set(row) >= KEYS and "test_iou" in row, row
        assert row["median_ms"] > 0 and row["p90_ms"] >= row["median_ms"], row
        assert row["params"] > 0 and row["macs"] > 0, row
        assert row["threads"] == 1 and row["precision"] in {"fp32", "int8"}


def test_fast_without_peers(bench, tiny_run, tmp_path, capsys):
    from seg.models import describe

    folder, net = tiny_run
    empty = tmp_path / "no_peers"
    empty.mkdir()
    args = ["--fast", "--model", f"tiny={folder}", "--peers-dir", str(empty)]
    assert bench.main([*args, "--peer-res", "72x128", *outputs(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "make peers" in printed
    rows = json.loads((tmp_path / "out.json").read_text())
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
def test_fast_with_peers(bench, tiny_run, tmp_path):
    folder, _ = tiny_run
    args = ["--fast", "--model", f"tiny={folder / 'student.onnx'}", "--no-peer-res"]
    assert bench.main([*args, "--peers-dir", str(DEFAULT_DIR), *outputs(tmp_path)]) == 0
    rows = json.loads((tmp_path / "out.json").read_text())
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


def test_bad_model_path_names_what_was_expected(bench, tmp_path):
    with pytest.raises(SystemExit, match=r"no_onnx_here.*student\.onnx"):
        bench.main(["--fast", "--model", f"x={tmp_path / 'no_onnx_here'}", *outputs(tmp_path)])
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(SystemExit, match=r"has no student\.onnx"):
        bench.main(["--fast", "--model", f"x={folder}", *outputs(tmp_path)])
    with pytest.raises(SystemExit):
        bench.main(["--fast", "--model", "no-equals-sign", *outputs(tmp_path)])


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
    from seg.bench.latency import time_interleaved

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
