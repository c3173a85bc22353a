"""Latency benchmark helpers: timing (:mod:`.latency`), MAC/parameter counting from exported graphs
(:mod:`.macs`) and the MediaPipe peer models (:mod:`.peers`). ``scripts/benchmark.py`` uses them.
"""
