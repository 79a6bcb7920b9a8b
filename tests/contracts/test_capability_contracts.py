"""Every registered model does what its declared capabilities say, and refuses what they do not.

Code above ``models/`` asks these declarations (``fitting``, ``label_role``, ``conditional``,
``has_likelihood``, ``takes_mask``, ``reconstructs``, ``generative``) instead of looking for attribute
names, so a declaration that lies breaks the CLI and the apps; these tests catch it at the model.
"""

from __future__ import annotations

from typing import get_args

import pytest
import torch

from aekit.errors import ConfigError
from aekit.models import create, get, names
from aekit.models.base import (
    AbstractAutoencoder,
    AbstractGenerativeAutoencoder,
    ErrorKind,
    Fitting,
    LabelRole,
)
from aekit.training.config import TrainConfig
from aekit.training.trainer import Trainer
from contracts.cases import ModelCase, case_for

NAMES = names()
BATCH_SIZE = 4


def _build(name: str) -> tuple[AbstractAutoencoder, ModelCase, tuple[int, ...]]:
    case = case_for(name)
    shape = case.input_shapes[0]
    return create(name, seed=0, **case.kwargs(shape)).eval(), case, shape


def _batch(case: ModelCase, shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor | None]:
    return case.batch(BATCH_SIZE, shape, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", NAMES)
def test_declared_values_are_of_the_declared_kinds(name: str) -> None:
    model, case, _ = _build(name)
    assert model.fitting in get_args(Fitting)
    assert model.label_role is None or model.label_role in get_args(LabelRole)
    assert model.error_kind in get_args(ErrorKind)
    assert model.generative == isinstance(model, AbstractGenerativeAutoencoder)
    assert set(get(name).capabilities()) == {
        "fitting", "labels", "conditional", "likelihood", "takes_mask", "reconstructs", "sampling",
        "paired_targets", "warmup",
    }  # fmt: skip
    # the contract cases feed labels exactly to the families that declare they need them
    assert (case.labels is not None) == (model.label_role is not None)
    # x_hat is the input's shape exactly when the family reconstructs its input
    assert (case.output_shape is None) == model.reconstructs


@pytest.mark.parametrize("name", NAMES)
def test_config_from_labels_sets_fields_the_family_has(name: str) -> None:
    cls = get(name)
    values = cls.config_from_labels(5)
    if cls.label_role is None:
        assert values == {}
        return
    case = case_for(name)
    shape = case.input_shapes[0]
    model = create(name, **{**case.kwargs(shape), **values})
    for key, value in values.items():
        assert getattr(model.config, key) == value


@pytest.mark.parametrize("name", NAMES)
def test_conditional_models_take_their_labels_as_condition(name: str) -> None:
    model, case, shape = _build(name)
    if not model.conditional:
        return
    assert model.n_classes >= 2
    x, labels = _batch(case, shape)
    with torch.no_grad():
        assert model.encode(x, labels).shape == (BATCH_SIZE, model.latent_dim)
        assert model.reconstruct(x, labels).shape == x.shape


@pytest.mark.parametrize("name", NAMES)
def test_likelihood_is_there_exactly_when_declared(name: str) -> None:
    model, case, shape = _build(name)
    x, labels = _batch(case, shape)
    condition = labels if model.conditional else None
    if model.has_likelihood:
        with torch.no_grad():
            nll = model.negative_log_likelihood(x, condition, generator=torch.Generator().manual_seed(0))
        assert nll.shape == (BATCH_SIZE,) and torch.isfinite(nll).all()
    else:
        with pytest.raises(ConfigError, match="has no likelihood"):
            model.negative_log_likelihood(x, condition)


@pytest.mark.parametrize("name", NAMES)
def test_generative_models_sample_with_temperature_and_labels(name: str) -> None:
    model, case, shape = _build(name)
    if not isinstance(model, AbstractGenerativeAutoencoder):
        return
    codes = model.prior_codes(6, generator=torch.Generator().manual_seed(1))
    cooler = model.prior_codes(6, temperature=0.5, generator=torch.Generator().manual_seed(1))
    assert codes.shape == (6, model.latent_dim)
    assert cooler.norm(dim=1).mean() < codes.norm(dim=1).mean()
    labels = torch.arange(6) % model.n_classes if model.conditional else None
    with torch.no_grad():
        samples = model.sample(
            6, temperature=0.7, condition=labels, generator=torch.Generator().manual_seed(2)
        )
        again = model.sample(6, temperature=0.7, condition=labels, generator=torch.Generator().manual_seed(2))
    assert samples.shape == (6, *case.expected_output_shape(shape))
    torch.testing.assert_close(samples, again)
    with pytest.raises(ConfigError, match="temperature"):
        model.prior_codes(2, temperature=0.0)


@pytest.mark.parametrize("name", NAMES)
def test_the_trainer_follows_the_fitting_procedure(name: str) -> None:
    model, case, shape = _build(name)
    x, _labels = _batch(case, shape)
    if model.fitting == "gradient":
        with pytest.raises(ConfigError, match="not in closed form"):
            model.fit_closed_form(x)
        with pytest.raises(ConfigError, match="no layer-wise pretraining"):
            model.layer_autoencoders()
        return
    if model.fitting == "closed_form":
        from aekit.data.tensors import TensorData

        data = TensorData(torch.rand(2 * model.latent_dim + 4, *shape))
        history = Trainer(TrainConfig(epochs=3)).fit(model, data)
        assert len(history) == 1 and torch.isfinite(torch.tensor(history["train_loss"])).all()
        return
    layers = model.layer_autoencoders()
    assert layers
    for index, layer in enumerate(layers):
        with torch.no_grad():
            inputs = model.layer_inputs(x, index)
            assert inputs.shape[1:] == tuple(layer.input_shape)
            assert layer.reconstruct(inputs).shape == inputs.shape


@pytest.mark.parametrize("name", NAMES)
def test_mask_taking_models_get_a_mask_from_their_batches(name: str) -> None:
    model, case, shape = _build(name)
    if not model.takes_mask:
        return
    generator = torch.Generator().manual_seed(0)
    inputs, _target, mask = model.prepare_batch(_batch(case, shape), generator)
    assert mask is not None and tuple(mask.shape[-2:]) == tuple(shape[-2:])
    with torch.no_grad():
        assert model.reconstruct(inputs, mask).shape == inputs.shape
