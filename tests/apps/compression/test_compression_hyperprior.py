"""The mean-scale hyperprior codec: training contract, exact integer hyper-synthesis, format 3 files, and
bit-exact decoding in another process with another thread count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aekit.apps.compression import CodecFileError, compress_image, decompress_image, read_header
from aekit.models.hyperprior import ACTIVATION_BITS, HyperpriorCodec, IntegerHyperSynthesis
from aekit.models.registry import create

TINY = {
    "input_shape": (3, 64, 64),
    "hidden_channels": 8,
    "latent_channels": 8,
    "hyper_channels": 6,
    "lmbda": (0.005, 0.05),
    "n_stages": 2,
    "kernel_size": 3,
}


@pytest.fixture(scope="module")
def tiny_hyperprior() -> HyperpriorCodec:
    torch.set_num_threads(1)
    model = create("codec_hyperprior", seed=0, **TINY)
    assert isinstance(model, HyperpriorCodec)
    with torch.no_grad():  # spread the latent so several scale tables and escapes get used
        model.analysis[-1].weight.mul_(20)
    model.eval()
    model.update_tables()
    return model


def _image(height: int, width: int, seed: int = 0) -> np.ndarray:
    rows, cols = np.mgrid[0:height, 0:width]
    base = np.stack([128 + 90 * np.sin(cols / (9 + 4 * c)) * np.cos(rows / 13) for c in range(3)], -1)
    noisy = base + np.random.default_rng(seed).normal(0, 10, base.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def test_training_step_gives_finite_terms_and_gradients() -> None:
    model = create("codec_hyperprior", seed=0, **TINY)
    x = torch.rand(2, 3, 64, 64)
    inputs, target, condition = model.prepare_batch((x, None), torch.Generator().manual_seed(0))
    terms = model.loss(model(inputs, condition), target)
    assert set(terms) == set(model.loss_terms)
    terms["loss"].backward()
    assert all(torch.isfinite(v) for v in terms.values())
    assert model.hyper_synthesis[0].weight.grad is not None
    assert model.hyper_analysis[0].weight.grad is not None
    assert set(model.param_groups()) == {"main", "aux"}


def test_integer_convolutions_are_exact_and_match_float() -> None:
    """The integer network equals a float64 torch reference exactly on integer weights and inputs."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.ConvTranspose2d(4, 5, 5, stride=2, padding=2, output_padding=1),
        torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(5, 6, 5, stride=2, padding=2, output_padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(6, 4, 3, padding=1),
    ).double()
    network = IntegerHyperSynthesis.from_float(module)
    z = torch.randint(-2000, 2000, (1, 4, 3, 5)).double()
    out = network(z)
    # reference: float64 torch layers on the same integers, with the same requantisation
    x = z
    for i, (w, b, shift) in enumerate(zip(network.weights, network.biases, network.shifts, strict=True)):
        weight = w.double()
        if i < 2:
            x = F.conv_transpose2d(
                x, weight.flip(-1, -2).transpose(0, 1), stride=2, padding=2, output_padding=1
            )
        else:
            x = F.conv2d(x, weight, padding=1)
        x = torch.floor((x + b.double().view(1, -1, 1, 1) + 2.0 ** (shift - 1)) / 2.0**shift)
        x = torch.relu(x) if i < 2 else x
    assert torch.equal(out, x)
    assert out.shape == (1, 4, 12, 20)
    # and close to the float network it was made from
    reference = module(z / 2**ACTIVATION_BITS) * 2**ACTIVATION_BITS
    assert (out - reference).abs().max() < 0.02 * reference.abs().max() + 4


def test_round_trip_levels_and_format(tiny_hyperprior: HyperpriorCodec) -> None:
    image = _image(37, 53)
    sizes = []
    for level in range(tiny_hyperprior.n_levels):
        data = compress_image(tiny_hyperprior, image, level=level)
        header = read_header(data)
        assert (header.format_version, header.model_name, header.level) == (3, "codec_hyperprior", level)
        decoded = decompress_image(tiny_hyperprior, data)
        assert decoded.shape == image.shape and decoded.dtype == np.uint8
        sizes.append(len(data))
    assert sizes[0] < sizes[-1]
    grey = image[..., 0]
    assert decompress_image(tiny_hyperprior, compress_image(tiny_hyperprior, grey)).shape == grey.shape


def test_tiled_image_decodes(tiny_hyperprior: HyperpriorCodec) -> None:
    image = _image(1060, 40)  # 265 latent rows with 4× downsampling: 5 tiles, the last one short
    data = compress_image(tiny_hyperprior, image, level=1)
    decoded = decompress_image(tiny_hyperprior, data)
    assert decoded.shape == image.shape
    assert read_header(data).format_version == 3
    assert compress_image(tiny_hyperprior, image, level=1) == data  # deterministic


def test_files_of_the_other_codec_are_refused_by_name(
    tiny_hyperprior: HyperpriorCodec, tiny_codec: torch.nn.Module
) -> None:
    image = _image(20, 20)
    factorized_file = compress_image(tiny_codec, image)  # type: ignore[arg-type]
    with pytest.raises(CodecFileError, match="'codec'"):
        decompress_image(tiny_hyperprior, factorized_file)
    hyperprior_file = compress_image(tiny_hyperprior, image)
    with pytest.raises(CodecFileError, match="codec_hyperprior"):
        decompress_image(tiny_codec, hyperprior_file)  # type: ignore[arg-type]


def test_damaged_payload_is_a_file_error(tiny_hyperprior: HyperpriorCodec) -> None:
    from aekit.apps.compression.bitstream import pack, unpack

    header, payload = unpack(compress_image(tiny_hyperprior, _image(40, 40), level=1))
    with pytest.raises(CodecFileError):
        decompress_image(tiny_hyperprior, pack(header, payload[:-8]))  # the tile stream is cut short
    garbage = payload[:8] + bytes(len(payload) - 8)
    with pytest.raises(CodecFileError):
        decompress_image(tiny_hyperprior, pack(header, garbage))


def test_stale_tables_are_refused(tiny_hyperprior: HyperpriorCodec) -> None:
    model = create("codec_hyperprior", seed=0, **TINY)
    model.load_state_dict(tiny_hyperprior.state_dict())
    assert model.tables_ready
    with torch.no_grad():
        model.hyper_synthesis[-1].bias.add_(0.5)
    assert not model.tables_ready
    with pytest.raises(Exception, match="update_tables"):
        compress_image(model, _image(16, 16))


_SCRIPT = r"""
import json, sys
import numpy as np, torch
torch.set_num_threads(int(sys.argv[1]))
torch.use_deterministic_algorithms(False)
from aekit.apps.compression import compress_image, decompress_image
from aekit.apps.compression.bitstream import unpack
from aekit.apps.compression.codec import _HyperLatentSource, _TileGrid
from aekit.models.files import load_model
model = load_model(sys.argv[2])
folder = sys.argv[3]
if sys.argv[4] == "encode":
    image = np.load(folder + "/image.npy")
    open(folder + "/image.aek", "wb").write(compress_image(model, image, level=1))
data = open(folder + "/image.aek", "rb").read()
header, payload = unpack(data)
factor = model.config.downsampling
grid = _TileGrid(-(-header.height // factor), -(-header.width // factor))
source = _HyperLatentSource(model, header, payload, grid)
with torch.no_grad():
    latent = source.window(slice(0, grid.latent_h), slice(0, grid.latent_w))
np.save(folder + f"/latent_{sys.argv[1]}.npy", latent.numpy())
np.save(folder + f"/pixels_{sys.argv[1]}.npy", decompress_image(model, data))
"""


@pytest.mark.slow
def test_encode_with_one_thread_decode_with_two_in_another_process(
    tiny_hyperprior: HyperpriorCodec, tmp_path: Path
) -> None:
    from aekit.models.files import save_model

    model = create("codec_hyperprior", seed=1, **{**TINY, "hidden_channels": 32, "latent_channels": 16})
    model.eval()
    model.update_tables()
    save_model(model, tmp_path / "model")
    np.save(tmp_path / "image.npy", _image(200, 232, seed=3))
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    for threads, mode in (("1", "encode"), ("2", "decode")):
        subprocess.run(
            [sys.executable, str(script), threads, str(tmp_path / "model"), str(tmp_path), mode],
            check=True,
            env=env,
            timeout=120,
        )
    one, two = np.load(tmp_path / "latent_1.npy"), np.load(tmp_path / "latent_2.npy")
    assert one.tobytes() == two.tobytes()  # the decoded latents: identical bits
    pixels_one, pixels_two = np.load(tmp_path / "pixels_1.npy"), np.load(tmp_path / "pixels_2.npy")
    assert np.abs(pixels_one.astype(int) - pixels_two.astype(int)).max() <= 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_encode_on_cpu_decode_on_cuda_gives_the_same_latents(tiny_hyperprior: HyperpriorCodec) -> None:
    from aekit.apps.compression.bitstream import unpack
    from aekit.apps.compression.codec import _HyperLatentSource, _TileGrid

    image = _image(150, 170, seed=5)
    data = compress_image(tiny_hyperprior, image, level=1)
    header, payload = unpack(data)
    factor = tiny_hyperprior.config.downsampling
    grid = _TileGrid(-(-header.height // factor), -(-header.width // factor))
    latents = []
    for device in ("cpu", "cuda"):
        model = create("codec_hyperprior", seed=0, **TINY)
        model.load_state_dict(tiny_hyperprior.state_dict())
        model.to(device).eval()
        with torch.no_grad():
            source = _HyperLatentSource(model, header, payload, grid)
            latents.append(source.window(slice(0, grid.latent_h), slice(0, grid.latent_w)).cpu())
        pixels = decompress_image(model, data)
        assert pixels.shape == image.shape
    assert torch.equal(latents[0], latents[1])


def test_mutated_format_3_payloads_decode_or_raise_a_file_error(tiny_hyperprior: HyperpriorCodec) -> None:
    """Random byte changes in the payload (CRC recomputed) end in an image or a CodecFileError."""
    from aekit.apps.compression.bitstream import pack, unpack

    header, payload = unpack(compress_image(tiny_hyperprior, _image(70, 300), level=1))
    rng = np.random.default_rng(0)
    for _ in range(60):
        mutated = bytearray(payload)
        for position in rng.integers(0, len(mutated), size=int(rng.integers(1, 4))):
            mutated[position] = int(rng.integers(0, 256))
        try:
            decoded = decompress_image(tiny_hyperprior, pack(header, bytes(mutated)))
        except CodecFileError:
            continue
        assert decoded.shape == (70, 300, 3)
