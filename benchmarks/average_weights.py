"""Average the weights of trained models of one architecture and save the average as an aekit model folder.

    python benchmarks/average_weights.py --out runs/photo_grey5/average --set self_ensemble=4 \
        runs/photo_grey5a/passes/0{19..26} runs/photo_grey5b/passes/0{19..26}

Izmailov et al., "Averaging weights leads to wider optima and better generalization", UAI 2018: the
weights of one run's last passes average into a better network than any one of them; Wortsman et al.,
"Model soups", ICML 2022: so do runs fine-tuned from the same starting weights. Sources are aekit model
folders or trainer checkpoints (``checkpoint.pt``, read without running code); the first model folder among
them gives the config, which ``--set key=value`` (a JSON value) may change where
the weights do not depend on it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import aekit
from aekit.models.files import load


def source_weights(path: Path) -> dict[str, torch.Tensor]:
    """The model weights of an aekit model folder or of a trainer checkpoint file."""
    if path.is_dir():
        return load(path).model.state_dict()
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise SystemExit(f"{path}: not an aekit model folder or trainer checkpoint")
    return state["model"]


def average(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts with the same names and shapes (summed in float64)."""
    first = states[0]
    for index, state in enumerate(states[1:], start=2):
        if state.keys() != first.keys() or any(state[k].shape != first[k].shape for k in first):
            raise SystemExit(f"source {index} has other weight names or shapes than the first")
    return {
        name: (sum(state[name].double() for state in states) / len(states)).to(tensor.dtype)
        for name, tensor in first.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sources", type=Path, nargs="+", help="model folders or checkpoint.pt files")
    parser.add_argument("--out", type=Path, required=True, help="the averaged model folder to write")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config changes")
    args = parser.parse_args()
    folder = next((path for path in args.sources if path.is_dir()), None)
    if folder is None:
        raise SystemExit("at least one source must be a model folder (it gives the config)")
    template = load(folder).model
    changes = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set)}
    model = aekit.models.create(template.registry_name, **{**template.config.to_dict(), **changes})
    states = [template.state_dict() if path == folder else source_weights(path) for path in args.sources]
    model.load_state_dict(average(states))
    metadata = {"averaged_from": [str(path) for path in args.sources], "config_changes": changes}
    aekit.save_model(model, args.out, metadata=metadata)
    print(f"saved the average of {len(args.sources)} sources to {args.out}")


if __name__ == "__main__":
    main()
