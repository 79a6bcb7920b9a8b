"""Files of user data: which suffixes each reader accepts, and the readers and writers themselves.

- :mod:`~aekit.formats.suffixes`: the one suffix registry every reader asks.
- :mod:`~aekit.formats.limits`: memory and pixel limits (``AEKIT_MAX_MEMORY``, ``AEKIT_MAX_PIXELS``).
- :mod:`~aekit.formats.arrays`: the ``.npy`` header reader and finite-value checks.
- :mod:`~aekit.formats.tables`: CSV/TSV/Parquet tables read into data frames.
- :mod:`~aekit.formats.images`: image files and 2-D arrays with their exact raw values (PNG codec).
- :mod:`~aekit.formats.folders`: the files of a folder that a reader takes, in a fixed order.
- :mod:`~aekit.formats.matrices`: 2-D numeric matrices (codes, scores) read and written.
- :mod:`~aekit.formats.streaming`: ``.npy`` and Parquet files read in chunks (data larger than memory).
- :mod:`~aekit.formats.files`: atomic writes, output-path checks and folder locks.

Importing this package is cheap: each module imports numpy, pandas or Pillow itself, on use.
"""
