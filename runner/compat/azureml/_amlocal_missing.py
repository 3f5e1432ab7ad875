"""What amlocal says about the parts of the SDK it does not provide, and where it says it.

A script that imports a name or module of the real SDK that amlocal lacks gets one clear error
naming the thing and what to use instead, in each form Python reaches it:

* `from azureml.core import Webservice` raises `NotProvidedImportError` (an ImportError,
  so it reads as amlocal's and not as a typo in the user's code);
* `azureml.core.Webservice` raises `NotProvidedAttributeError` (an AttributeError, so
  `hasattr` and `getattr(..., default)` keep working);
* `import azureml.train.automl` raises `NotProvidedModuleError` (a ModuleNotFoundError), from
  a finder placed after every other one, so a separately installed `azureml-*` distribution
  (widgets, opendatasets, mlflow, …) is always found first.

`azureml.widgets` is the one module amlocal supplies only where no real one is installed.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from typing import Any

_COMPAT_AZUREML = os.path.dirname(os.path.abspath(__file__))
_WIDGETS_FALLBACK = os.path.join(_COMPAT_AZUREML, "_amlocal_widgets.py")

# What to use instead, by name (a class, a function or a module's last component).
ALTERNATIVES: dict[str, str] = {
    "AutoMLStep": "AutoML runs only on Azure ML; train with your own script in a "
                  "PythonScriptStep",
    "AutoMLConfig": "AutoML runs only on Azure ML; train with your own script in a "
                    "PythonScriptStep",
    "automl": "AutoML runs only on Azure ML; train with your own script in a PythonScriptStep",
    "HyperDriveStep": "HyperDrive runs only on Azure ML; sweep with one PythonScriptStep per "
                      "setting, or a PipelineParameter set per submit",
    "hyperdrive": "HyperDrive runs only on Azure ML; sweep with one PythonScriptStep per "
                  "setting, or a PipelineParameter set per submit",
    "InferenceConfig": "deploying models is outside what amlocal emulates; load the model in "
                       "a step with Model.get_model_path(name)",
    "Webservice": "deploying models is outside what amlocal emulates",
    "webservice": "deploying models is outside what amlocal emulates",
    "Image": "deploying models is outside what amlocal emulates",
    "authentication": "no login is needed locally: leave out auth= (Workspace.from_config() "
                      "and Workspace.get() work without it)",
    "Keyvault": "pass secrets to steps as environment variables of the RunConfiguration",
    "DataFactoryCompute": "Data Factory runs only on Azure; copy data with a DataTransferStep "
                          "or a PythonScriptStep",
    "AdlaStep": "Data Lake Analytics runs only on Azure; port the U-SQL job to a "
                "PythonScriptStep",
    "AzureBatchStep": "Azure Batch runs only on Azure; run the executable with a "
                      "PythonScriptStep (subprocess)",
    "RScriptStep": "run R with a PythonScriptStep that calls Rscript (subprocess)",
    "KustoStep": "Kusto runs only on Azure; query your data in a PythonScriptStep",
    "SynapseSparkStep": "Synapse runs only on Azure; run the Spark code with a PythonScriptStep "
                        "(local pyspark)",
}
_GENERIC = "see \"What is emulated\" in amlocal's README for what exists locally"
# Separate distributions that install into the `azureml` namespace beside the SDK's own.
_DISTRIBUTIONS = ("opendatasets", "interpret", "mlflow", "fsspec", "tensorboard", "contrib",
                  "accel", "explain", "responsibleai", "datadrift")


def not_provided_message(module: str, name: str) -> str:
    """The one line said about `name` of `module`, which amlocal does not provide."""
    what = f"{module}.{name}" if name[:1].islower() else name
    hint = ALTERNATIVES.get(name, _GENERIC)
    return f"amlocal does not provide {what} yet: {hint}"


class NotProvidedImportError(ImportError):
    """`from azureml.x import Name` of an SDK name amlocal does not provide."""


class NotProvidedAttributeError(AttributeError):
    """`azureml.x.Name` of an SDK name amlocal does not provide."""


class NotProvidedModuleError(ModuleNotFoundError):
    """`import azureml.x.y` of an SDK module amlocal does not provide."""


def module_message(fullname: str) -> str:
    """The one line said about the module `fullname`, which no installed package provides."""
    parts = fullname.split(".")
    if len(parts) >= 2 and parts[1] in _DISTRIBUTIONS:
        return (f"amlocal does not provide {fullname}: it comes with the separate package "
                f"azureml-{parts[1]}; install it (pip install azureml-{parts[1]}), it imports "
                "beside amlocal's azureml")
    for part in reversed(parts[1:]):
        if part in ALTERNATIVES:
            return f"amlocal does not provide {fullname} yet: {ALTERNATIVES[part]}"
    return f"amlocal does not provide {fullname} yet: {_GENERIC}"


def _is_ours(module_name: str) -> bool:
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None) or ""
    return module_name == "azureml" or os.path.abspath(path).startswith(_COMPAT_AZUREML + os.sep)


class MissingModuleHints(importlib.abc.MetaPathFinder):
    """Last on sys.meta_path: the widgets fallback, and the hint for a missing azureml module."""

    amlocal_hints = True  # marks an installed instance (the package may be imported again)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        """A spec for the widgets fallback; raise the hint for other azureml modules we lack."""
        if not fullname.startswith("azureml."):
            return None
        if fullname == "azureml.widgets":
            return importlib.util.spec_from_file_location(fullname, _WIDGETS_FALLBACK)
        if not _is_ours(fullname.rpartition(".")[0]):
            return None  # inside another distribution: its own error is the right one
        raise NotProvidedModuleError(module_message(fullname), name=fullname)


def install_missing_module_hints() -> None:
    """Put the hint finder last on sys.meta_path, once per process."""
    if not any(getattr(f, "amlocal_hints", False) for f in sys.meta_path):
        sys.meta_path.append(MissingModuleHints())
