"""The synthetic dataset's cache, the DataModule, the dataset contract and the data configs."""

import functools

import numpy as np
import pytest
import torch
from hydra.errors import ConfigCompositionException
from torch.utils.data import Dataset

from data_fixtures import write_folder
from helpers import compose_cfg
from seg.build import build_datamodule
from seg.data import SegDataset, as_seg_dataset, synthetic_dataset
from seg.data.datamodule import PortraitDataModule
from seg.data.dataset import DatasetAdapter
from seg.data.portrait_dataset import PortraitDataset
from seg.data.records import BadSampleError, DatasetError
from seg.data.synthetic_dataset import SyntheticPortraitDataset
from seg.errors import ConfigError, DataError


def test_cached_frames_equal_rendered_frames_and_are_reused(tmp_path):
    plain = SyntheticPortraitDataset("val", 6, 64, 96, seed=5)
    cached = SyntheticPortraitDataset("val", 6, 64, 96, seed=5, cache_dir=tmp_path, workers=1)
    cached.prepare()
    done = cached.cache_path / "done"
    stamp = done.stat().st_mtime_ns
    for i in range(6):
        a, b = plain[i], cached[i]
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    again = SyntheticPortraitDataset("val", 6, 64, 96, seed=5, cache_dir=tmp_path)
    again.prepare()
    assert again.cache_path == cached.cache_path and done.stat().st_mtime_ns == stamp
    assert again.attributes() == plain.attributes()


def test_cache_key_covers_generation_parameters(tmp_path):
    base = SyntheticPortraitDataset("train", 4, 64, 96, seed=0, cache_dir=tmp_path)
    others = [
        SyntheticPortraitDataset("train", 4, 64, 96, seed=1, cache_dir=tmp_path),
        SyntheticPortraitDataset("train", 4, 64, 128, seed=0, cache_dir=tmp_path),
        SyntheticPortraitDataset("train", 4, 64, 96, seed=0, difficulty=0.5, cache_dir=tmp_path),
        SyntheticPortraitDataset("val", 4, 64, 96, seed=0, cache_dir=tmp_path),
        SyntheticPortraitDataset("train", 5, 64, 96, seed=0, cache_dir=tmp_path),
    ]
    assert len({base.cache_path, *(o.cache_path for o in others)}) == 6


def test_parallel_cache_fill_matches_serial(tmp_path, monkeypatch):
    monkeypatch.setattr(synthetic_dataset, "PARALLEL_MIN_FRAMES", 1)
    parallel = SyntheticPortraitDataset(
        "test", 12, 64, 96, seed=2, cache_dir=tmp_path / "p", workers=2
    )
    parallel.prepare()
    serial = SyntheticPortraitDataset("test", 12, 64, 96, seed=2)
    for i in (0, 5, 11):
        assert np.array_equal(parallel.raw(i)[0], serial.raw(i)[0])


def test_dataset_sample_format_and_errors():
    ds = SyntheticPortraitDataset("train", 3, 64, 96)
    s = ds[1]
    assert s["image"].shape == (3, 64, 96) and s["image"].dtype == torch.float32
    assert s["image"].min() >= 0.0 and s["image"].max() <= 1.0
    assert s["mask"].shape == (1, 64, 96) and set(s["mask"].unique().tolist()) <= {0.0, 1.0}
    assert s["index"] == 1
    with pytest.raises(IndexError):
        ds.raw(3)
    with pytest.raises(ValueError, match="length must be > 0"):
        SyntheticPortraitDataset("train", 0)


def make_dm(tmp_path, **kw):
    factory = functools.partial(SyntheticPortraitDataset, height=64, width=96)
    return PortraitDataModule(
        train=functools.partial(factory, split="train", length=10),
        val=functools.partial(factory, split="val", length=5),
        test=functools.partial(factory, split="test", length=5),
        height=64,
        width=96,
        num_workers=0,
        seed=3,
        cache_dir=tmp_path,
        **kw,
    )


def test_datamodule_batches(tmp_path):
    dm = make_dm(tmp_path, batch_size=4, eval_batch_size=5)
    dm.prepare_data()
    dm.setup("fit")
    train_batches = list(dm.train_dataloader())
    assert len(train_batches) == 2  # 10 frames, batch 4, last partial batch dropped
    batch = train_batches[0]
    assert batch["image"].shape == (4, 3, 64, 96) and batch["mask"].shape == (4, 1, 64, 96)
    dm.check_batch(batch)
    val = next(iter(dm.val_dataloader()))
    assert val["image"].shape[0] == 5 and val["index"].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="data.height x data.width"):
        dm.check_batch({"image": torch.zeros(1, 3, 32, 32)})


def test_datamodule_rejects_batch_larger_than_train_split(tmp_path):
    dm = make_dm(tmp_path, batch_size=16)
    with pytest.raises(ValueError, match="fewer than data.batch_size=16"):
        dm.setup("fit")


def test_datamodule_checks_batches_before_transfer(tmp_path):
    dm = make_dm(tmp_path, batch_size=4)
    good = {"image": torch.zeros(2, 3, 64, 96)}
    assert dm.on_before_batch_transfer(good, 0) is good
    with pytest.raises(ValueError, match="expected B x 3 x 64 x 96"):
        dm.on_before_batch_transfer({"image": torch.zeros(2, 3, 64, 64)}, 0)


# --- the dataset contract ------------------------------------------------------------------------


class PlainFrames(Dataset):
    """A user's own dataset: nothing but ``len`` and indexing (and a method seg must not call)."""

    def __init__(self, n: int = 3, transform=None, **options) -> None:
        self.n, self.transform, self.options = n, transform, options

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        if not 0 <= index < self.n:
            raise IndexError(index)
        return {
            "image": torch.full((3, 64, 96), index / 10),
            "mask": torch.zeros(1, 64, 96),
            "index": index,
        }

    def sample_ids(self) -> list[str]:  # duck-typed, not the contract: the adapter ignores it
        return ["not", "the", "contract"]


def test_adapter_around_a_plain_dataset_has_the_contract_defaults():
    plain = PlainFrames(3)
    ds = as_seg_dataset(plain, "val")
    assert isinstance(ds, SegDataset) and isinstance(ds, DatasetAdapter) and ds.dataset is plain
    assert len(ds) == 3 and ds.split == "val" and ds.labelled is True
    assert torch.equal(ds[2]["image"], plain[2]["image"]) and ds[2]["index"] == 2
    with pytest.raises(IndexError):
        ds[3]
    assert ds.prepare() is None
    assert ds.sample_ids() == ["0", "1", "2"]
    assert ds.attributes() == [{}, {}, {}]
    assert ds.sample_weights() is None
    assert ds.fingerprint() is None
    assert ds.image_paths() == ["", "", ""]
    assert ds.skipped_samples() == []
    assert as_seg_dataset(plain).split == ""
    # a SegDataset is returned as is, never wrapped twice
    assert as_seg_dataset(ds) is ds
    synthetic = SyntheticPortraitDataset("train", 2, 64, 96)
    assert as_seg_dataset(synthetic, "other") is synthetic and synthetic.split == "train"

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            yield {"image": torch.zeros(3, 4, 4)}

    with pytest.raises(DataError, match="Stream, which has no length"):
        as_seg_dataset(Stream())


def test_contract_defaults_of_a_minimal_subclass():
    class Two(SegDataset):
        def __len__(self) -> int:
            return 2

        def __getitem__(self, index: int) -> dict:
            return {"image": torch.zeros(3, 4, 4), "index": index}

    ds = Two()
    assert (ds.split, ds.labelled) == ("", True)
    assert ds.sample_ids() == ["0", "1"] and ds.attributes() == [{}, {}]
    assert ds.image_paths() == ["", ""] and ds.skipped_samples() == [] and ds.fingerprint() is None
    with pytest.raises(NotImplementedError, match="must implement __len__"):
        len(SegDataset())


def plain_datamodule(**options) -> PortraitDataModule:
    """A data module of :class:`PlainFrames` splits (8 / 2 / 2) at 64 x 96, batch 4, no workers."""
    factories = {
        s: functools.partial(PlainFrames, n) for s, n in (("train", 8), ("val", 2), ("test", 2))
    }
    return PortraitDataModule(
        **factories, height=64, width=96, batch_size=4, num_workers=0, **options
    )


def test_datamodule_wraps_a_plain_dataset_factory_and_gives_it_every_option(tmp_path):
    dm = plain_datamodule(report_dir=tmp_path / "run", root="/data/x")
    dm.prepare_data()  # the defaults: nothing to prepare, nothing skipped, no report written
    assert not (tmp_path / "run").exists()
    for split in ("train", "val", "test"):
        ds = dm.dataset(split)
        assert isinstance(ds, DatasetAdapter) and ds.split == split
        assert ds.dataset.options == {"root": "/data/x"}
    assert dm.train_weights() is None  # uniform: shuffled, no weighted sampler
    batch = next(iter(dm.train_dataloader()))
    assert batch["image"].shape == (4, 3, 64, 96)
    assert dm.build_split("all").split == "all"
    # badcases need ids of the dataset's own: a plain dataset's are only indices
    (tmp_path / "bad.csv").write_text("id\n0\n")
    looped = plain_datamodule(badcases=str(tmp_path / "bad.csv"))
    with pytest.raises(DatasetError, match="PlainFrames.*no sample ids.*SegDataset"):
        looped.train_weights()


def test_builtin_datasets_are_seg_datasets_with_consistent_contract_lists(tmp_path):
    synthetic = SyntheticPortraitDataset("val", 4, 64, 96, seed=1)
    write_folder(
        tmp_path / "p", n=6, attributes=[{"tone": "a" if i % 2 else "b"} for i in range(6)]
    )
    real = PortraitDataset("all", 48, 64, format="folder", root=tmp_path / "p")
    pool = PortraitDataset("all", 48, 64, format="folder", root=tmp_path / "p", labelled=False)
    for ds in (synthetic, real, pool):
        assert isinstance(ds, SegDataset) and as_seg_dataset(ds) is ds
        ds.prepare()
        n = len(ds)
        ids = ds.sample_ids()
        assert len(ids) == n and len(set(ids)) == n and all(isinstance(i, str) for i in ids)
        assert len(ds.attributes()) == n and len(ds.image_paths()) == n
        assert ds.skipped_samples() == [] and ds.sample_weights() is None
    assert synthetic.split == "val" and synthetic.labelled and synthetic.fingerprint() is None
    assert synthetic.image_paths() == [""] * 4 and synthetic.sample_ids()[0] == "val/000000"
    assert real.split == "all" and real.labelled and not pool.labelled
    assert real.sample_ids()[0] == "p/s00"
    assert [a["tone"] for a in real.attributes()] == ["b", "a"] * 3
    assert real.image_paths()[0] == str(tmp_path / "p" / "images" / "s00.png")
    assert isinstance(real.fingerprint(), str) and real.fingerprint() == pool.fingerprint()
    assert real.records[0].id == "p/s00"  # the records attribute still reads the same


def test_skipped_samples_are_the_skipped_list(tmp_path):
    write_folder(tmp_path / "p", n=4)
    (tmp_path / "p" / "masks" / "s01.png").unlink()
    ds = PortraitDataset("all", 48, 64, format="folder", root=tmp_path / "p", on_bad_sample="skip")
    assert ds.skipped_samples() == []  # nothing checked yet
    ds.prepare()
    assert [b.id for b in ds.skipped_samples()] == ["p/s01"] == [b.id for b in ds.skipped]
    assert len(ds) == 3 and len(ds.sample_ids()) == len(ds.image_paths()) == 3


def test_data_errors_are_seg_data_errors_and_still_value_errors(tmp_path):
    assert issubclass(DatasetError, DataError) and issubclass(BadSampleError, DataError)
    assert issubclass(DatasetError, ValueError)
    with pytest.raises(DataError, match="no images found"):
        (tmp_path / "empty" / "images").mkdir(parents=True)
        PortraitDataset("all", 48, 64, format="folder", root=tmp_path / "empty")
    with pytest.raises(ConfigError, match="data.on_bad_sample"):
        PortraitDataset("all", 48, 64, format="folder", root=tmp_path, on_bad_sample="ignore")
    with pytest.raises(ConfigError, match="data.batch_size"):
        make_dm(tmp_path, batch_size=0)


# --- one data-config dialect ---------------------------------------------------------------------


def synthetic_cfg(*overrides: str):
    return compose_cfg(
        "data=synthetic",
        "augment=none",
        "data.cache_dir=null",
        "data.height=32",
        "data.width=48",
        "data.train.length=4",
        "data.val.length=2",
        "data.test.length=2",
        *overrides,
    )


def test_synthetic_options_are_top_level_and_given_to_every_split(tmp_path):
    cfg = synthetic_cfg()
    assert "dataset_kwargs" not in cfg.data
    assert (cfg.data.seed, cfg.data.difficulty, cfg.data.cache_dir) == (0, 1.0, None)
    base = build_datamodule(cfg)
    seeded = build_datamodule(synthetic_cfg("data.seed=1", "data.difficulty=1.5"))
    for split in ("train", "val", "test"):
        a, b = base.build_split(split), seeded.build_split(split)
        assert a.params["seed"] == 0 and b.params["seed"] == 1, split
        assert b.params["difficulty"] == 1.5 and b.cache_dir is None, split
        assert not np.array_equal(a.raw(0)[0], b.raw(0)[0]), split  # other frames
    # the same seed renders the same frames
    again = build_datamodule(synthetic_cfg("data.seed=1", "data.difficulty=1.5")).build_split("val")
    assert np.array_equal(again.raw(1)[0], seeded.build_split("val").raw(1)[0])
    # and cache_dir reaches the datasets too
    cached = build_datamodule(synthetic_cfg(f"data.cache_dir={tmp_path}"))
    assert all(cached.build_split(s).cache_dir == tmp_path for s in ("train", "val", "test"))


def test_dataset_kwargs_is_no_longer_a_config_key():
    with pytest.raises(ConfigCompositionException) as info:
        synthetic_cfg("data.dataset_kwargs.seed=1")
    assert "dataset_kwargs" in str(info.value.__cause__ or info.value)
    # an old config (e.g. a saved run's) that still has the key gets told where its keys went
    with pytest.raises(ConfigError, match=r"dataset_kwargs was removed.*data\.seed, data\.pairs"):
        make_dm(None, dataset_kwargs={"seed": 1, "pairs": True})


def test_every_data_config_shares_the_loader_keys_of_one_file(tmp_path):
    from omegaconf import OmegaConf

    loader = OmegaConf.load("configs/data/_loader.yaml")
    for choice in ("synthetic", "folder", "list", "supervisely", "matting", "images", "mixed"):
        root = [] if choice in ("synthetic", "mixed") else [f"data.root={tmp_path}"]
        cfg = compose_cfg(f"data={choice}", *root)
        for key, value in loader.items():
            assert cfg.data[key] == value, (choice, key)
    assert compose_cfg("data=folder", "data.root=/tmp/x").data.root == "/tmp/x"


def test_report_dir_is_a_constructor_parameter(tmp_path):
    dm = make_dm(tmp_path, report_dir=tmp_path / "run")
    assert dm.report_dir == tmp_path / "run"
    assert make_dm(tmp_path).report_dir is None


@pytest.mark.parametrize("workers", [0, 2])
def test_the_same_seed_gives_the_same_augmented_batches(tmp_path, workers):
    """albumentations keeps its own random state: the data module seeds it from the run's seed
    (in the main process and in every worker), so a seeded run is repeatable."""
    import lightning as L

    cfg = compose_cfg(
        "data.height=64",
        "data.width=96",
        "data.train.length=8",
        "data.batch_size=4",
        f"data.num_workers={workers}",
        f"data.cache_dir={tmp_path}",
    )

    def first_batch(seed: int) -> torch.Tensor:
        L.seed_everything(seed, workers=True)
        datamodule = build_datamodule(cfg)
        datamodule.prepare_data()
        datamodule.setup()
        return next(iter(datamodule.train_dataloader()))["image"]

    a, b, c = first_batch(3), first_batch(3), first_batch(4)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    train = build_datamodule(cfg).build_split("train")
    train.prepare()
    train.seed_augmentation(1)
    one = train[0]["image"]
    train.seed_augmentation(1)
    assert torch.equal(train[0]["image"], one)  # the augmentation, not only the order, is seeded
