from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from aekit.data import (
    LoadedDataset,
    Normalizer,
    load_array,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_image_file,
    load_image_folder,
    load_mnist,
    load_table,
)
from aekit.errors import ConfigError, DataError, ShapeError

# ------------------------------------------------------------------------------------------- built-in


def test_digits_shape_range_and_labels():
    loaded = load_digits()
    x, y = loaded.data.x, loaded.data.y
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and set(y.tolist()) == set(range(10))
    assert loaded.value_range == (0.0, 16.0) and x.min() == 0 and x.max() == 16
    assert loaded.kind == "image" and loaded.class_names == tuple("0123456789")
    normalized = Normalizer.range(*loaded.value_range).transform(x)
    assert normalized.min() == 0 and normalized.max() == 1


def test_digits_resize_keeps_range():
    x = load_digits(image_size=(12, 10)).data.x
    assert x.shape == (1797, 1, 12, 10)
    assert x.min() >= 0 and x.max() <= 16


def test_real_mnist_train_and_test(mnist_dir):
    train = load_mnist("train", mnist_dir.parent, download=False)
    assert train.data.x.shape == (60000, 1, 28, 28) and train.data.x.dtype == torch.float32
    assert train.data.x.max() == 255 and train.data.x.min() == 0
    assert train.data.y.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test = load_dataset("mnist", split="test", data_dir=mnist_dir)
    assert test.data.x.shape == (10000, 1, 28, 28)
    assert test.data.y.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert test.value_range == (0.0, 255.0)


def test_mnist_count_mismatch_is_reported(mnist_dir, tmp_path, monkeypatch):
    from aekit.data import datasets

    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_dir / name, folder)
    real_read = datasets.read_idx
    monkeypatch.setattr(
        datasets, "read_idx", lambda p: real_read(p)[:-1] if "labels" in str(p) else real_read(p)
    )
    with pytest.raises(DataError, match=r"has 10000 images but .*t10k-labels-idx1-ubyte\.gz has 9999 labels"):
        load_mnist("test", tmp_path, download=False)


def test_fashion_mnist_offline_error_names_its_folder(tmp_path):
    with pytest.raises(DataError, match=r"Fashion-MNIST files are missing .* into .*fashion-mnist"):
        load_fashion_mnist("test", tmp_path, download=False)


def test_bad_split_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="split must be 'train' or 'test'; got 'valid'"):
        load_mnist("valid", tmp_path, download=False)
    with pytest.raises(DataError, match="digits has no 'test' split"):
        load_dataset("digits", split="test")


# --------------------------------------------------------------------------------------------- arrays


def test_npy_round_trip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(6, 4)
    np.save(tmp_path / "a.npy", array)
    loaded = load_array(tmp_path / "a.npy")
    assert loaded.kind == "array" and loaded.data.y is None and loaded.value_range == (0.0, 255.0)
    assert loaded.data.x.dtype == torch.float32
    np.testing.assert_array_equal(loaded.data.x.numpy(), array)


@pytest.mark.parametrize("keys", [("x", "y"), ("X", "y"), ("only", None)])
def test_npz_round_trip(tmp_path, keys):
    x = np.linspace(0, 1, 30).reshape(10, 3)
    y = np.arange(10) % 3
    arrays = {keys[0]: x} | ({keys[1]: y} if keys[1] else {})
    np.savez(tmp_path / "a.npz", **arrays)
    loaded = load_dataset(tmp_path / "a.npz")
    np.testing.assert_allclose(loaded.data.x.numpy(), x, rtol=1e-6)
    assert loaded.value_range is None
    if keys[1]:
        assert loaded.data.y.dtype == torch.int64 and loaded.data.y.tolist() == y.tolist()
    else:
        assert loaded.data.y is None


def test_a_stack_of_grey_images_gains_its_channel_axis(tmp_path):
    stack = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.save(tmp_path / "stack.npy", stack)
    loaded = load_array(tmp_path / "stack.npy")
    assert loaded.data.sample_shape == (1, 3, 4)
    np.testing.assert_array_equal(loaded.data.x[:, 0].numpy(), stack)
    np.save(tmp_path / "rows.npy", np.zeros((2, 5)))
    np.save(tmp_path / "colour.npy", np.zeros((2, 3, 4, 5)))
    assert load_array(tmp_path / "rows.npy").data.sample_shape == (5,)
    assert load_array(tmp_path / "colour.npy").data.sample_shape == (3, 4, 5)
    np.savez(tmp_path / "pairs.npz", x=stack.astype(np.float32), y=stack.astype(np.float32) / 2)
    pairs = load_array(tmp_path / "pairs.npz").data
    assert pairs.y is not None and pairs.y.shape == pairs.x.shape == (2, 1, 3, 4)
    np.savez(tmp_path / "masks.npz", x=stack, y=(stack > 10).astype(np.int64))
    masks = load_array(tmp_path / "masks.npz").data
    assert masks.x.shape == (2, 1, 3, 4) and masks.y is not None and masks.y.shape == (2, 3, 4)


def test_npz_without_identifiable_samples(tmp_path):
    np.savez(tmp_path / "a.npz", a=np.zeros((2, 2)), b=np.zeros((2, 2)))
    with pytest.raises(DataError, match=r"has arrays \['a', 'b'\]; expected the samples under 'x'"):
        load_array(tmp_path / "a.npz")


def test_pickled_arrays_are_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"cannot read array file .*allow_pickle=False"):
        load_array(tmp_path / "obj.npy")


def test_array_errors(tmp_path):
    np.save(tmp_path / "nan.npy", np.array([[0.0, np.nan], [np.inf, 1.0]]))
    with pytest.raises(DataError, match=r"non-finite values \(1 NaN, 1 inf\)"):
        load_array(tmp_path / "nan.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 3)))
    with pytest.raises(DataError, match=r"empty\.npy is empty"):
        load_array(tmp_path / "empty.npy")
    np.save(tmp_path / "flat.npy", np.zeros(5))
    with pytest.raises(ShapeError, match=r"shape \(5,\); expected \(N, \.\.\.\)"):
        load_array(tmp_path / "flat.npy")
    np.savez(tmp_path / "mismatch.npz", x=np.zeros((4, 2)), y=np.zeros(3))
    with pytest.raises(DataError, match="4 samples in x but 3 labels in y"):
        load_array(tmp_path / "mismatch.npz")
    with pytest.raises(DataError, match="does not exist"):
        load_array(tmp_path / "missing.npy")


# --------------------------------------------------------------------------------------------- tables


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "height": [1.5, 2.0, 3.25, 4.0],
            "width": [10, 20, 30, 40],
            "flag": [True, False, True, True],
            "species": ["b", "a", "b", "c"],
        }
    )


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_table_round_trip(tmp_path, frame, suffix):
    path = tmp_path / f"t.{suffix}"
    if suffix == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    loaded = load_table(path, label_column="species")
    assert loaded.kind == "table" and loaded.columns == ("height", "width", "flag")
    np.testing.assert_allclose(loaded.data.x.numpy(), frame[["height", "width", "flag"]].to_numpy(float))
    assert loaded.class_names == ("a", "b", "c") and loaded.data.y.tolist() == [1, 0, 1, 2]
    assert loaded.value_range is None


def test_load_dataset_reads_tables_by_suffix(tmp_path, frame):
    frame.drop(columns="species").to_parquet(tmp_path / "t.parquet")
    loaded = load_dataset(tmp_path / "t.parquet")
    assert loaded.kind == "table" and loaded.data.x.shape == (4, 3) and loaded.data.y is None


def test_table_column_selection_and_numeric_labels(tmp_path, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    loaded = load_table(tmp_path / "t.csv", columns=["flag", "height"], label_column="width")
    assert loaded.columns == ("flag", "height")
    assert loaded.data.x[:, 1].tolist() == [1.5, 2.0, 3.25, 4.0]
    assert loaded.data.y.dtype == torch.int64 and loaded.data.y.tolist() == [10, 20, 30, 40]
    assert loaded.class_names is None


def test_table_non_numeric_column_is_named(tmp_path, frame):
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"non-numeric feature column\(s\) 'species' \(e\.g\. 'b'\)"):
        load_table(tmp_path / "t.csv")
    (tmp_path / "mixed.csv").write_text("a,b\n1,2\n3,oops\n5,6\n")  # one bad cell in a column of numbers
    with pytest.raises(DataError, match=r"column\(s\) 'b' \(e\.g\. 'oops'\)"):
        load_table(tmp_path / "mixed.csv")


def test_table_nan_columns_are_named(tmp_path):
    pd.DataFrame({"a": [1.0, np.nan, 2.0], "b": [1.0, 2.0, 3.0], "c": [np.inf, 0.0, np.nan]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    with pytest.raises(DataError, match=r"NaN or inf values in column\(s\) 'a' \(1 rows\), 'c' \(2 rows\)"):
        load_table(tmp_path / "t.csv")


def test_table_errors(tmp_path, frame):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv is empty"):
        load_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataError, match=r"header\.csv is empty \(0 rows\)"):
        load_table(tmp_path / "header.csv")
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"has no column\(s\) \['weight'\]"):
        load_table(tmp_path / "t.csv", columns=["weight"])
    with pytest.raises(DataError, match="label_column 'width' is also listed in columns"):
        load_table(tmp_path / "t.csv", columns=["width"], label_column="width")


# --------------------------------------------------------------------------------------------- images


def _save(path, array, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path)


def test_grey_folder_with_class_subfolders(tmp_path):
    rng = np.random.default_rng(0)
    images = {
        name: rng.integers(0, 256, (6, 5), dtype=np.uint8) for name in ["b/2.png", "a/1.png", "b/1.png"]
    }
    for name, array in images.items():
        _save(tmp_path / name, array)
    loaded = load_dataset(tmp_path)
    assert loaded.kind == "image" and loaded.value_range == (0.0, 255.0)
    assert loaded.class_names == ("a", "b") and loaded.data.y.tolist() == [0, 1, 1]
    assert loaded.data.x.shape == (3, 1, 6, 5)
    for index, name in enumerate(["a/1.png", "b/1.png", "b/2.png"]):
        np.testing.assert_array_equal(loaded.data.x[index, 0].numpy(), images[name])


def test_rgb_folder_without_labels_and_auto_mode(tmp_path):
    colour = np.zeros((4, 4, 3), dtype=np.uint8)
    colour[..., 0] = 200
    _save(tmp_path / "1.png", colour)
    _save(tmp_path / "2.jpg", np.full((4, 4), 100, dtype=np.uint8))
    loaded = load_image_folder(tmp_path)
    assert loaded.data.y is None and loaded.class_names is None
    assert loaded.data.x.shape == (2, 3, 4, 4)
    assert loaded.data.x[0, 0].eq(200).all() and loaded.data.x[0, 1:].eq(0).all()
    assert (loaded.data.x[1] - 100).abs().max() <= 2  # grey JPEG replicated into 3 channels
    with pytest.raises(DataError, match=r"1\.png is in colour \(mode RGB\)"):
        load_image_folder(tmp_path, mode="L")


def test_resize_and_mixed_sizes(tmp_path):
    _save(tmp_path / "small.png", np.full((4, 6), 50, dtype=np.uint8))
    _save(tmp_path / "big.png", np.full((8, 8), 150, dtype=np.uint8))
    _save(tmp_path / "big2.png", np.full((8, 8), 250, dtype=np.uint8))
    with pytest.raises(DataError, match=r"2 different sizes \(HxW\): 8x8 \(big\.png\), 4x6 \(small\.png\)"):
        load_image_folder(tmp_path)
    loaded = load_dataset(tmp_path, image_size=(5, 7))
    assert loaded.data.x.shape == (3, 1, 5, 7)
    assert loaded.data.x[:, 0, 2, 3].tolist() == [150.0, 250.0, 50.0]


def test_sixteen_bit_images(tmp_path):
    array = np.array([[0, 1000], [40000, 65535]], dtype=np.uint16)
    _save(tmp_path / "deep.png", array)
    loaded = load_image_folder(tmp_path)
    assert loaded.value_range == (0.0, 65535.0)
    np.testing.assert_array_equal(loaded.data.x[0, 0].numpy(), array)
    resized = load_image_folder(tmp_path, size=(4, 4), mode="RGB").data.x
    assert resized.shape == (1, 3, 4, 4) and resized.max() <= 65535 and resized.max() > 255


def test_truncated_image_is_named(tmp_path):
    _save(tmp_path / "ok.png", np.zeros((16, 16), dtype=np.uint8))
    _save(tmp_path / "cut.png", np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8))
    data = (tmp_path / "cut.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cannot read image .*cut\.png"):
        load_image_folder(tmp_path)
    (tmp_path / "cut.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"cannot read image .*cut\.png"):
        load_image_folder(tmp_path)


def test_image_folder_errors(tmp_path):
    with pytest.raises(DataError, match="is empty"):
        load_image_folder(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    _save(tmp_path / "top.png", np.zeros((2, 2), dtype=np.uint8))
    _save(tmp_path / "cls" / "a.png", np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(DataError, match=r"mixes images at its top level \(e\.g\. top\.png\)"):
        load_image_folder(tmp_path)
    with pytest.raises(ConfigError, match=r"size must be \(height, width\)"):
        load_image_folder(tmp_path / "cls", size=(0, 3))


def test_one_image_file_is_a_data_set_of_that_image(tmp_path):
    colour = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    _save(tmp_path / "photo.png", colour)
    _save(tmp_path / "other.png", np.zeros((6, 5, 3), dtype=np.uint8))
    loaded = load_dataset(tmp_path / "photo.png")
    assert loaded.kind == "image" and loaded.value_range == (0.0, 255.0) and loaded.data.y is None
    np.testing.assert_array_equal(loaded.data.x[0].numpy(), colour.transpose(2, 0, 1))
    torch.testing.assert_close(loaded.data.x[0], load_image_folder(tmp_path).data.x[1])  # same conventions
    assert load_dataset(tmp_path / "photo.png", image_size=(3, 4)).data.x.shape == (1, 3, 3, 4)
    with pytest.raises(DataError, match=r"photo\.png is in colour"):
        load_image_file(tmp_path / "photo.png", mode="L")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"cannot read image .*broken\.png"):
        load_dataset(tmp_path / "broken.png")


# ------------------------------------------------------------------------------------------- dispatch


def test_load_dataset_dispatch_errors(tmp_path):
    with pytest.raises(
        DataError, match="'mnsit' is neither a dataset name nor an existing path; did you mean"
    ):
        load_dataset("mnsit")
    (tmp_path / "a.txt").write_text("1,2")
    with pytest.raises(DataError, match=r"a\.txt: unsupported file type"):
        load_dataset(tmp_path / "a.txt")
    np.save(tmp_path / "a.npy", np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="image_size applies to images only"):
        load_dataset(tmp_path / "a.npy", image_size=(4, 4))
    assert isinstance(load_dataset("DIGITS"), LoadedDataset)
