"""Data for aekit: loaders, downloads, splits, augmentation, corruptions, normalisation.

Importing this package is cheap: pandas, Pillow and scikit-learn are imported only by the loaders that
need them.
"""

from __future__ import annotations

from aekit.data.augment import Augmentation
from aekit.data.corruptions import (
    CORRUPTIONS,
    apply_corruption,
    gaussian_noise,
    mask_pixels,
    occlusion_bars,
    pixel_mask,
    salt_and_pepper,
)
from aekit.data.datasets import (
    DATASET_NAMES,
    load_array,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
)
from aekit.data.download import (
    DATASET_FILES,
    DatasetFiles,
    RemoteFile,
    dataset_folder,
    ensure_files,
    resolve_data_dir,
    verify_file,
)
from aekit.data.idx import read_idx, write_idx
from aekit.data.images import load_image_file, load_image_folder
from aekit.data.loaded import LoadedDataset
from aekit.data.normalization import Normalizer
from aekit.data.split import train_val_split
from aekit.data.tables import load_table
from aekit.data.tensors import TensorData

__all__ = [
    "CORRUPTIONS",
    "DATASET_FILES",
    "DATASET_NAMES",
    "Augmentation",
    "DatasetFiles",
    "LoadedDataset",
    "Normalizer",
    "RemoteFile",
    "TensorData",
    "apply_corruption",
    "dataset_folder",
    "ensure_files",
    "gaussian_noise",
    "load_array",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_image_file",
    "load_image_folder",
    "load_mnist",
    "load_table",
    "mask_pixels",
    "occlusion_bars",
    "pixel_mask",
    "read_idx",
    "resolve_data_dir",
    "salt_and_pepper",
    "train_val_split",
    "verify_file",
    "write_idx",
]
