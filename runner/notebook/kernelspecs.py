"""The Jupyter kernelspecs of amlocal's kernel: `amlocal`, and the names Azure ML
compute instances give their v1 kernels, so a notebook written there opens unmodified."""
from __future__ import annotations

import json
import sys
from pathlib import Path

# kernel name -> display name. The Azure names are those public v1 notebooks carry.
KERNEL_NAMES: dict[str, str] = {
    "amlocal": "Python 3 (amlocal: Azure ML SDK v1 locally)",
    "python3-azureml": "Python 3 - AzureML (amlocal)",
    "python38-azureml": "Python 3.8 - AzureML (amlocal)",
}
KERNEL_MODULE = "runner.notebook.kernel"


def kernel_argv() -> list[str]:
    """The command Jupyter runs to start amlocal's kernel (this interpreter, so amlocal imports)."""
    return [sys.executable, "-m", KERNEL_MODULE, "-f", "{connection_file}"]


def kernel_json(name: str) -> dict[str, object]:
    """The kernel.json of the kernelspec `name` (one of KERNEL_NAMES)."""
    return {"argv": kernel_argv(), "display_name": KERNEL_NAMES[name], "language": "python",
            "metadata": {"debugger": True, "amlocal": True}}


def kernels_dir(prefix: Path | None = None) -> Path:
    """Where kernelspecs go: `PREFIX/share/jupyter/kernels`, else the user's Jupyter data
    folder (`$JUPYTER_DATA_DIR`, e.g. ~/.local/share/jupyter) `/kernels`."""
    if prefix is not None:
        return Path(prefix) / "share" / "jupyter" / "kernels"
    from jupyter_core.paths import jupyter_data_dir
    return Path(jupyter_data_dir()) / "kernels"


def install_kernelspecs(prefix: Path | None = None) -> list[Path]:
    """Write every kernelspec of KERNEL_NAMES (replacing an earlier one of that name); returns
    the kernel.json files written."""
    written = []
    for name in KERNEL_NAMES:
        folder = kernels_dir(prefix) / name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "kernel.json"
        path.write_text(json.dumps(kernel_json(name), indent=1) + "\n")
        written.append(path)
    return written
