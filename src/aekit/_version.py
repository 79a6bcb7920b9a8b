"""The package version, read by ``aekit --version`` and written into model files."""

__version__ = "0.1.0"
