"""`amlocal kernel install [--prefix DIR]`: register amlocal's Jupyter kernel, under its own
name and the Azure ML compute-instance names, so notebooks open unmodified in Jupyter or
VS Code."""
from __future__ import annotations

import argparse
from pathlib import Path

from runner.notebook.kernelspecs import KERNEL_NAMES, install_kernelspecs


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the `kernel` command to the `amlocal` parser."""
    kernel = sub.add_parser("kernel", help="Jupyter kernels: install amlocal's")
    actions = kernel.add_subparsers(dest="action", required=True, metavar="ACTION")
    install = actions.add_parser(
        "install", help=f"register the Jupyter kernels {', '.join(KERNEL_NAMES)} (amlocal's azureml first)")
    install.add_argument("--prefix", type=Path,
                         help="install under PREFIX/share/jupyter/kernels (e.g. a virtualenv's "
                              "sys.prefix) instead of your Jupyter data folder")


def run(args: argparse.Namespace) -> int:
    """Install the kernelspecs and say where; returns the exit status."""
    for path in install_kernelspecs(args.prefix):
        print(f"installed kernel {path.parent.name} in {path.parent}")
    return 0
