"""Datasets: the built-in synthetic portrait generator and its PyTorch wrappers."""
