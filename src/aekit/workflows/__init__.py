"""Training workflows: what trains models end to end, above the training engine (:mod:`aekit.training`).

- :mod:`~aekit.workflows.run`: one training run into a run folder (data → normalise → split → train →
  model files, losses, metrics, pictures); ``aekit train``, ``demo`` and ``evaluate`` call it.
- :mod:`~aekit.workflows.sweep`: the same model trained at several latent sizes (``aekit sweep``).
- :mod:`~aekit.workflows.clustering`: the clustering recipe on raw data (autoencoders sized for the data,
  then their codes clustered).
- :mod:`~aekit.workflows.fewlabel`: classifiers from few labels (fine-tuning a pretrained encoder,
  self-training) compared with baselines.

Applications that only use trained models live in :mod:`aekit.apps`.
"""
