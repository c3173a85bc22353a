"""Benchmarks of the students, as library code the thin CLIs ``scripts/benchmark.py`` and
``scripts/bench_losses.py`` call.

Latency benchmark (students vs MediaPipe), :func:`~seg.bench.latency_suite.run_latency_benchmark`:

* :mod:`.options`: what a run is asked to do (sizes, models, timing settings; ``--fast`` defaults);
* :mod:`.candidates`: the students benchmarked (run folders, graphs, untrained configs);
* :mod:`.graphs`: the graphs timed, re-exported and re-quantized at the peers' sizes, and the peers;
* :mod:`.frames`: validation / test frames from the data module and the seeded timing image;
* :mod:`.measure`: latency rows (interleaved timing, params and MACs) and IoU of a graph on frames;
* :mod:`.latency_report`: the markdown report, the JSON rows and the latency-vs-IoU plot;
* :mod:`.latency`: timing helpers; :mod:`.macs`: MAC/parameter counting of ONNX and TFLite
  graphs; :mod:`.peers`: the MediaPipe peer models.

Loss benchmark (cost of each auxiliary / distillation loss term): :mod:`.losses` measures,
:mod:`.losses_report` writes the markdown. :mod:`.report` writes any benchmark's report file.
"""
