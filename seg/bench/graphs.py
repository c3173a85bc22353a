"""The graphs a latency benchmark times: every candidate at its own size and, re-exported (and
re-quantized on validation frames) into a temporary folder, at the peers' sizes; plus the peers.

Exported graphs have a static input size, so other sizes need a re-export: with a ``student.pt``
next to the graph (or for an untrained default student) the student is re-exported at each other
size; without one only the graph's own size is measured, with a note saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seg.bench.candidates import Candidate, Graph, build_default, float_or_none, sizes_for
from seg.bench.frames import load_frames
from seg.bench.peers import PEERS

Echo = Callable[[str], None]


def _print(text: str) -> None:
    print(text, flush=True)


class Exporter:
    """Re-exports (and re-quantizes) students at other sizes into a folder.

    Args:
        folder: Where the graphs go (``<name>/<H>x<W>/student[.int8].onnx``); a temporary folder.
        calibration_frames: Validation frames int8 graphs are calibrated on.
        echo: Where progress lines go.
    """

    def __init__(self, folder: Path, calibration_frames: int, echo: Echo = _print) -> None:
        self.folder = Path(folder)
        self.calibration_frames = calibration_frames
        self.echo = echo
        self._nets: dict[str, Any] = {}
        self._calibration: np.ndarray | None = None

    def net(self, cand: Candidate) -> Any:
        """The candidate's network: untrained from its config, else loaded from ``student.pt``."""
        if cand.name not in self._nets:
            if cand.config is not None:
                self._nets[cand.name] = build_default(cand.config)
            else:
                from seg.models import load_model

                self._nets[cand.name] = load_model(cand.weights)
        return self._nets[cand.name]

    def fp32(self, cand: Candidate, height: int, width: int) -> Path:
        """The candidate exported at ``height x width`` (exported once)."""
        from seg.export.onnx import export_onnx

        path = self.folder / cand.name / f"{height}x{width}" / "student.onnx"
        if not path.is_file():
            self.echo(f"  exporting {cand.name} at {height}x{width} ...")
            source = str(cand.weights) if cand.weights else f"untrained model={cand.config}"
            export_onnx(self.net(cand), path, height, width, metadata={"benchmark_export": source})
        return path

    def int8(self, cand: Candidate, fp32: Path, height: int, width: int) -> Path:
        """``fp32`` quantized to int8 on the first validation frames (quantized once)."""
        from seg.export.quantize import quantize_int8
        from seg.inference import to_model_input

        path = fp32.with_name("student.int8.onnx")
        if not path.is_file():
            self.echo(f"  quantizing {cand.name} at {height}x{width} ...")
            if self._calibration is None:
                self._calibration = load_frames("val", self.calibration_frames)[0]
            quantize_int8(fp32, path, to_model_input(self._calibration, height, width))
        return path


def native_size(cand: Candidate) -> tuple[int, int] | None:
    """The candidate's own input size: from its metadata, else its graph's input shape."""
    if cand.fp32 is not None and cand.native is None:
        from seg.inference import OnnxBackend

        probe = OnnxBackend(cand.fp32, 1)
        cand.native = probe.height, probe.width
    return cand.native


def collect_graphs(
    candidates: Sequence[Candidate],
    peer_res: Sequence[tuple[int, int]],
    exporter: Exporter,
    notes: list[str],
) -> list[Graph]:
    """Every (model, precision, size) graph of our candidates, exporting where needed.

    Args:
        candidates: The students.
        peer_res: Sizes they also run at (:func:`~seg.bench.candidates.sizes_for`).
        exporter: Re-exports at other sizes.
        notes: Gets a line for every size a candidate had to skip.

    Returns:
        The graphs; at a candidate's own size with the test IoU of its metadata (fp32:
        ``test_iou_onnx``, else ``test_iou``; int8: ``test_iou_int8``).
    """
    graphs: list[Graph] = []
    for cand in candidates:
        native_size(cand)
        for height, width in sizes_for(cand, peer_res):
            if (height, width) == cand.native and cand.fp32 is not None:
                fp32, int8 = cand.fp32, cand.int8
                iou32 = float_or_none(
                    cand.metadata.get("test_iou_onnx") or cand.metadata.get("test_iou")
                )
                iou8 = float_or_none(cand.int8_metadata.get("test_iou_int8"))
            elif cand.config is not None or cand.weights is not None:
                fp32 = exporter.fp32(cand, height, width)
                want_int8 = cand.config is not None or cand.int8 is not None
                int8 = exporter.int8(cand, fp32, height, width) if want_int8 else None
                iou32 = iou8 = None
            else:
                notes.append(
                    f"{cand.name} skipped at {height}x{width}: its graph is static "
                    f"({cand.native[0]}x{cand.native[1]}) and there is no student.pt next to "
                    f"{cand.fp32} to re-export it."
                )
                continue
            graphs.append(
                Graph(cand.name, "fp32", height, width, fp32, "onnx", iou32, cand.trained)
            )
            if int8 is not None:
                graphs.append(
                    Graph(cand.name, "int8", height, width, int8, "onnx", iou8, cand.trained)
                )
    return graphs


def peer_graphs(found: Mapping[str, Path]) -> list[Graph]:
    """The MediaPipe peers present in ``found`` (:func:`seg.bench.peers.find_peers`), as fp32
    TFLite graphs at their own sizes."""
    return [
        Graph(peer.name, "fp32", peer.height, peer.width, found[peer.name], "tflite")
        for peer in PEERS
        if peer.name in found
    ]
