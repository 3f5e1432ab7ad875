"""Where amlocal's own code lives on disk, for putting it on a step's or script's path."""
from pathlib import Path

# The folder that holds the `runner`, `store` and `tui` packages.
PACKAGE_PARENT = Path(__file__).resolve().parents[1]
# The folder holding the compat `azureml` package (goes first on sys.path / PYTHONPATH).
COMPAT_DIR = PACKAGE_PARENT / "runner" / "compat"
