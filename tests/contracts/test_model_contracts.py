"""The contract every registered model (and preset) must honour, whichever family it belongs to."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import DataError, ShapeError
from aekit.models import create, names
from aekit.models.base import AbstractAutoencoder
from aekit.models.files import load_model, save_model
from aekit.training.fit import fit
from contracts.cases import ModelCase, case_for

BATCH_SIZE = 4
NAMES = names()
NAME_SHAPES = [(name, shape) for name in NAMES for shape in case_for(name).input_shapes]


def _build(name: str, shape: tuple[int, ...], seed: int = 0) -> tuple[AbstractAutoencoder, ModelCase]:
    case = case_for(name)
    return create(name, seed=seed, **case.kwargs(shape)), case


def _prepared(model: AbstractAutoencoder, case: ModelCase, shape: tuple[int, ...], seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return model.prepare_batch(case.batch(BATCH_SIZE, shape, generator), generator)


def _first_shape(name: str) -> tuple[int, ...]:
    return case_for(name).input_shapes[0]


def _skip_without_trainable_parameters(model: AbstractAutoencoder) -> None:
    if not any(p.requires_grad for p in model.parameters()):
        pytest.skip(f"{type(model).__name__} has no trainable parameters (a closed-form fit)")


@pytest.mark.parametrize(("name", "shape"), NAME_SHAPES)
def test_output_shapes_at_non_default_sizes(name: str, shape: tuple[int, ...]) -> None:
    model, case = _build(name, shape)
    inputs, _target, condition = _prepared(model, case, shape)
    output = model(inputs, condition)
    assert tuple(output.x_hat.shape) == (BATCH_SIZE, *case.expected_output_shape(shape))
    assert output.z.shape[0] == BATCH_SIZE
    code = model.encode(inputs, condition)
    if case.latent_dim is not None:
        assert tuple(code.shape) == (BATCH_SIZE, case.latent_dim) == (BATCH_SIZE, model.latent_dim)
    assert tuple(model.decode(code, condition).shape) == tuple(output.x_hat.shape)


@pytest.mark.parametrize("name", NAMES)
def test_save_then_load_gives_identical_outputs(name: str, tmp_path) -> None:
    shape = _first_shape(name)
    model, case = _build(name, shape)
    x, y = case.batch(BATCH_SIZE, shape, torch.Generator().manual_seed(1))
    fit(model, x, y=y, epochs=1, batch_size=2, device="cpu")  # trained weights, not just the initial ones
    inputs, _target, condition = _prepared(model, case, shape)
    model.eval()
    loaded = load_model(save_model(model, tmp_path / name))
    assert type(loaded) is type(model) and loaded.config == model.config
    for one, other in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(one, other)
    with torch.no_grad():
        assert torch.equal(model.encode(inputs, condition), loaded.encode(inputs, condition))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            expected = model(inputs, condition).x_hat
            torch.manual_seed(0)
            actual = loaded(inputs, condition).x_hat
    assert torch.equal(expected, actual)


@pytest.mark.parametrize("name", NAMES)
def test_seeded_creation_gives_identical_weights(name: str) -> None:
    shape = _first_shape(name)
    first, _ = _build(name, shape, seed=7)
    second, _ = _build(name, shape, seed=7)
    other, _ = _build(name, shape, seed=8)
    state, same, different = first.state_dict(), second.state_dict(), other.state_dict()
    assert list(state) == list(same)
    assert all(torch.equal(state[key], same[key]) for key in state)
    if any(True for _ in first.parameters()):
        assert not all(torch.equal(state[key], different[key]) for key in state)


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_cover_the_trainable_parameters(name: str) -> None:
    model, _ = _build(name, _first_shape(name))
    groups = model.param_groups()
    owned = {phase.group for phase in model.phases}
    assert owned <= set(groups), f"phases name groups {owned - set(groups)} that param_groups() lacks"
    model_params = {id(p) for p in model.parameters()}
    for group in owned:
        ids = [id(p) for p in groups[group]]
        assert len(ids) == len(set(ids)), f"group {group!r} lists a parameter twice"
        assert set(ids) <= model_params, f"group {group!r} holds tensors that are not the model's parameters"
    optimised = {id(p) for group in owned for p in groups[group]}
    assert optimised == {id(p) for p in model.parameters() if p.requires_grad}


@pytest.mark.parametrize("name", NAMES)
def test_each_phase_steps_only_its_own_group(name: str) -> None:
    shape = _first_shape(name)
    model, case = _build(name, shape)
    _skip_without_trainable_parameters(model)
    model.train()
    groups = model.param_groups()
    optimizers = {phase.group: torch.optim.SGD(groups[phase.group], lr=0.1) for phase in model.phases}
    for phase in model.phases:
        before = {key: p.detach().clone() for key, p in model.named_parameters()}
        model.zero_grad(set_to_none=True)
        inputs, target, condition = _prepared(model, case, shape)
        model.loss(model(inputs, condition), target)[phase.loss_key].backward()
        optimizers[phase.group].step()
        own = {id(p) for p in groups[phase.group]}
        moved = {key for key, p in model.named_parameters() if not torch.equal(before[key], p)}
        strays = {key for key, p in model.named_parameters() if id(p) not in own} & moved
        assert not strays, f"phase {phase.name!r} changed parameters outside group {phase.group!r}: {strays}"
        assert moved, f"phase {phase.name!r} changed no parameter"


@pytest.mark.parametrize("name", NAMES)
def test_every_parameter_receives_a_gradient_in_its_phase(name: str) -> None:
    shape = _first_shape(name)
    model, case = _build(name, shape)
    _skip_without_trainable_parameters(model)
    model.train()
    groups = model.param_groups()
    reached: set[int] = set()
    for phase in model.phases:
        model.zero_grad(set_to_none=True)
        inputs, target, condition = _prepared(model, case, shape)
        terms = model.loss(model(inputs, condition), target)
        terms[phase.loss_key].backward()
        reached |= {id(p) for p in groups[phase.group] if p.grad is not None}
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in reached]
    assert not missing, f"no phase gives these parameters a gradient: {missing}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_loss_terms_are_exactly_the_declared_keys(name: str, training: bool) -> None:
    shape = _first_shape(name)
    model, case = _build(name, shape)
    model.train(training)
    inputs, target, condition = _prepared(model, case, shape)
    terms = model.loss(model(inputs, condition), target)
    assert tuple(sorted(terms)) == tuple(sorted(model.loss_terms))
    assert "loss" in terms
    for key, value in terms.items():
        assert value.dim() == 0 and torch.isfinite(value), key


@pytest.mark.parametrize("name", NAMES)
def test_training_logs_every_declared_term(name: str) -> None:
    shape = _first_shape(name)
    model, case = _build(name, shape)
    x, y = case.batch(2 * BATCH_SIZE, shape, torch.Generator().manual_seed(1))
    history = fit(model, x, y=y, epochs=1, batch_size=BATCH_SIZE, device="cpu")
    assert {f"train_{key}" for key in model.loss_terms} <= set(history.rows[-1])


@pytest.mark.parametrize("name", NAMES)
def test_bad_inputs_raise_the_documented_errors(name: str) -> None:
    shape = _first_shape(name)
    model, case = _build(name, shape)
    inputs, _target, condition = _prepared(model, case, shape)
    wrong_shape = torch.rand(BATCH_SIZE, *shape[:-1], shape[-1] + 1)
    with pytest.raises(ShapeError, match=r"must have shape \(B, "):
        model(wrong_shape, condition)
    with pytest.raises(ShapeError, match=r"must have shape \(B, "):
        model(inputs.flatten(), condition)
    with pytest.raises(TypeError, match=r"floating-point tensor; got dtype torch\.int64"):
        model(torch.zeros(inputs.shape, dtype=torch.int64), condition)
    poisoned = inputs.clone()
    poisoned.view(-1)[0] = float("nan")
    with pytest.raises(DataError, match="NaN or infinite"):
        model(poisoned, condition)
    with pytest.raises(ShapeError, match=r"must have shape \(B, "):
        model.encode(wrong_shape, condition)
