"""The compat `azureml` package as unmodified scripts import it: a pkgutil namespace beside other
azureml-* distributions, every SDK module path of the core and common tiers, the SDK's
constants and re-exports, and one clear error for what amlocal does not provide."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO

COMPAT = REPO / "runner" / "compat"
API = REPO.parent / "shared" / "azureml-v1" / "azureml_v1_api.json"


def _python(code: str, *extra_path: Path) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter whose `azureml` is amlocal's (then `extra_path`)."""
    path = ":".join([str(COMPAT), str(REPO), *map(str, extra_path)])
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"})


def _core_and_common_modules() -> list[str]:
    ref = json.loads(API.read_text())
    return sorted({ip["module"] for c in ref["classes"] if c["tier"] in ("core", "common")
                   for ip in c["import_paths"]})


def test_every_core_and_common_module_path_imports():
    modules = _core_and_common_modules()
    assert len(modules) == 45  # the reference's module paths of the two tiers
    done = _python(f"import importlib\nfor m in {modules!r}: importlib.import_module(m)\nprint('ok')")
    assert done.stdout == "ok\n", done.stderr


def test_sdk_constants_and_re_exports():
    done = _python("""
        import azureml.core, azureml.core.runconfig as rc, azureml.core.environment as env
        from azureml.core.runconfig import CondaDependencies as A
        from azureml.core.environment import CondaDependencies as B
        from azureml.core.conda_dependencies import CondaDependencies as C
        print(repr(azureml.core.VERSION), repr(azureml.core.__version__))
        print(rc.DEFAULT_CPU_IMAGE == env.DEFAULT_CPU_IMAGE, rc.DEFAULT_CPU_IMAGE)
        print(rc.DEFAULT_GPU_IMAGE == env.DEFAULT_GPU_IMAGE, rc.DEFAULT_GPU_IMAGE)
        print(A is B is C, rc.MPI_CPU_IMAGE == rc.DEFAULT_CPU_IMAGE, env.PYTHON_DEFAULT_VERSION)
        from azureml.core.runconfig import (DockerConfiguration, MpiConfiguration,
                                            PyTorchConfiguration, TensorflowConfiguration)
        from azureml.pipeline.core import TimeZone, ScheduleRecurrence, ModuleVersion
        from azureml.pipeline.core.schedule import TimeZone as T2
        print(TimeZone is T2, TimeZone.UTC.value)
        print(azureml.core.runconfig.__name__)  # a submodule, reached as an attribute
    """)
    assert done.stdout.splitlines() == [
        "'1.61.0' '1.61.0'",
        "True mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1",
        "True mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04",
        "True True 3.10.18",
        "True UTC",
        "azureml.core.runconfig",
    ], done.stderr


def test_a_name_amlocal_lacks_says_so_in_both_forms_and_a_typo_stays_a_typo():
    done = _python("""
        import azureml.core
        try:
            from azureml.core import Webservice
        except ImportError as e:
            print(type(e).__name__, isinstance(e, ImportError), "|", e)
        try:
            azureml.core.Webservice
        except AttributeError as e:
            print(type(e).__name__, "|", e)
        print(hasattr(azureml.core, "Webservice"), getattr(azureml.core, "Image", None))
        try:
            from azureml.core import Workspce
        except ImportError as e:
            print(type(e).__name__, "|", e)
    """)
    hint = "amlocal does not provide Webservice yet: deploying models is outside what amlocal emulates"
    assert done.stdout.splitlines() == [
        f"NotProvidedImportError True | {hint}",
        f"NotProvidedAttributeError | {hint}",
        "False None",
        "ImportError | cannot import name 'Workspce' from 'azureml.core' "
        f"({COMPAT / 'azureml' / 'core' / '__init__.py'})",
    ], done.stderr


def test_a_module_amlocal_lacks_says_so_and_what_to_use():
    done = _python("""
        for name in ("azureml.train.automl", "azureml.opendatasets", "azureml.core.webservice"):
            try:
                __import__(name)
            except ModuleNotFoundError as e:
                print(type(e).__name__, e.name, "|", e)
    """)
    assert done.stdout.splitlines() == [
        "NotProvidedModuleError azureml.train.automl | amlocal does not provide azureml.train.automl "
        "yet: AutoML runs only on Azure ML; train with your own script in a PythonScriptStep",
        "NotProvidedModuleError azureml.opendatasets | amlocal does not provide azureml.opendatasets: "
        "it comes with the separate package azureml-opendatasets; install it (pip install "
        "azureml-opendatasets), it imports beside amlocal's azureml",
        "NotProvidedModuleError azureml.core.webservice | amlocal does not provide "
        "azureml.core.webservice yet: deploying models is outside what amlocal emulates",
    ], done.stderr


def _fake_distribution(root: Path, module: str, body: str) -> Path:
    """An installed azureml-* distribution: its own pkgutil `azureml/__init__.py` and `module`."""
    package = root / "azureml"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n")
    target = package / module
    target.mkdir()
    (target / "__init__.py").write_text(body)
    return root


def test_other_azureml_distributions_import_beside_amlocal(tmp_path):
    site = _fake_distribution(tmp_path / "site", "opendatasets", "WHO = 'azureml-opendatasets'\n")
    done = _python("""
        import azureml, azureml.opendatasets, azureml.core
        print(azureml.opendatasets.WHO, len(azureml.__path__), azureml.core.VERSION)
    """, site)
    assert done.stdout == "azureml-opendatasets 2 1.61.0\n", done.stderr


def test_a_real_azureml_widgets_wins_over_amlocals_fallback(tmp_path):
    site = _fake_distribution(tmp_path / "site", "widgets", "class RunDetails: WHO = 'real'\n")
    real = _python("from azureml.widgets import RunDetails; print(RunDetails.WHO)", site)
    assert real.stdout == "real\n", real.stderr
    fallback = _python("from azureml.widgets import RunDetails; print(RunDetails.__module__)")
    assert fallback.stdout == "runner.sdk.run_details\n", fallback.stderr
