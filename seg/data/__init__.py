"""Datasets: the dataset contract, the built-in synthetic portrait generator's dataset, real
datasets on disk, and the data module that serves them."""

from seg.data.dataset import SegDataset, as_seg_dataset

__all__ = ["SegDataset", "as_seg_dataset"]
