"""Framework estimators: `azureml.train.sklearn.SKLearn` and `azureml.train.dnn.TensorFlow`,
`PyTorch`, `Chainer`, with the SDK's constructors.

Each is an `Estimator` whose environment gets its framework's packages at the version the SDK
pins for `framework_version` (the SDK's default when none is given). As in the SDK, a
`conda_dependencies_file` or an `environment_definition` means no framework packages are
added, and a package the user lists themselves wins over the framework's pin. When an image is
built, a pin pip cannot get for the image's Python gives way to the newest release, and the
step's preparation log says so (`runner.executors.framework_pins`). Distributed settings
(`Mpi`, `ParameterServer`, node counts) are recorded; a step runs its script once, as MpiStep.
"""
from __future__ import annotations

import inspect
import logging
import re
from typing import Any

from runner.sdk.estimator import Estimator
from runner.step_runtime.exceptions import TrainingException

log = logging.getLogger("azureml.train")

_UNSUPPORTED = ("{name} {version} is not currently supported by the {name} estimator. Check "
                "https://docs.microsoft.com/python/api/azureml-train-core/azureml.train.dnn?view="
                "azure-ml-py for all supported versions. To use {name} {version}, switch to the "
                "generic Estimator class for your experiment.")


def _torch(torch: str, vision: str) -> tuple[tuple[str, str, bool], ...]:
    return ((f"torch=={torch}", "torch", True), (f"torchvision=={vision}", "torchvision", True))


def _tf(version: str) -> tuple[tuple[str, str, bool], ...]:
    return ((f"tensorflow=={version}", "tensorflow", True),)


# framework → version → the SDK's pins: (pinned requirement, fallback, wheels only).
# From azureml-train-core 1.62's scenario files (CPU); TensorFlow's GPU pins are
# tensorflow-gpu, which no longer exists for current Pythons, so tensorflow stands for both.
PINS: dict[str, dict[str, tuple[tuple[str, str, bool], ...]]] = {
    "SKLearn": {"0.20.3": (("scikit-learn==0.20.3", "scikit-learn", True),)},
    "TensorFlow": {"1.10": _tf("1.10.0"), "1.12": _tf("1.12.0"), "1.13": _tf("1.13.1"),
                   "2.0": _tf("2.0.0"), "2.1": _tf("2.1.0"), "2.2": _tf("2.2.0"),
                   "2.3": _tf("2.3.0")},
    "PyTorch": {"1.0": _torch("1.0", "0.4.1"), "1.1": _torch("1.1", "0.4.1"),
                "1.2": _torch("1.2", "0.4.1"), "1.3": _torch("1.3.1", "0.4.1"),
                "1.4": _torch("1.4.0", "0.5.0"), "1.5": _torch("1.5.0", "0.5.0"),
                "1.6": _torch("1.6.0", "0.5.0")},
    "Chainer": {"5.1.0": (("chainer==5.1.0", "chainer", False),),
                "7.0.0": (("chainer==7.0.0", "chainer", False),)},
}


def _package(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[=<>!~ \[;]", requirement.strip(), 1)[0]).lower()


class Mpi:
    """MPI (Horovod) distributed training settings; recorded, the script runs once."""

    def __init__(self, process_count_per_node: int = 1) -> None:
        self.process_count_per_node = process_count_per_node
        self.backend = "mpi"


class ParameterServer:
    """Parameter-server distributed training settings; recorded, the script runs once."""

    def __init__(self, worker_count: int = 1, parameter_server_count: int = 1) -> None:
        self.worker_count = worker_count
        self.parameter_server_count = parameter_server_count
        self.backend = "ps"


class Gloo:
    """PyTorch Gloo distributed training settings; recorded, the script runs once."""

    backend = "gloo"


class Nccl:
    """PyTorch NCCL distributed training settings; recorded, the script runs once."""

    backend = "nccl"


class _FrameworkEstimator(Estimator):
    """An Estimator whose environment holds its framework's packages."""

    FRAMEWORK_NAME = ""
    DEFAULT_VERSION = ""

    def __init__(self, source_directory: str, *, framework_version: str | None = None,
                 conda_dependencies_file: str | None = None,
                 conda_dependencies_file_path: str | None = None,
                 environment_definition: Any = None, distributed_training: Any = None,
                 distributed_backend: Any = None, use_gpu: bool = False,
                 **settings: Any) -> None:
        name = self.FRAMEWORK_NAME
        log.warning(f"'{name}' estimator is deprecated. Please use 'ScriptRunConfig' from "
                    "'azureml.core.script_run_config' with your own defined environment or the "
                    "AzureML-Tutorial curated environment.")
        if framework_version is None:
            framework_version = self.DEFAULT_VERSION
            if len(self.get_supported_versions()) > 1 and not settings.get("user_managed"):
                log.warning(f"framework_version is not specified, defaulting to version "
                            f"{framework_version}.")
        elif framework_version not in self.get_supported_versions():
            raise TrainingException(_UNSUPPORTED.format(name=name, version=framework_version))
        conda_file = conda_dependencies_file or conda_dependencies_file_path
        if environment_definition is not None or conda_file:
            log.warning("If environment_definition or conda_dependencies_file is specified, "
                        "Azure ML will not install any framework related packages on behalf of "
                        "the user.")
        super().__init__(source_directory, conda_dependencies_file=conda_dependencies_file,
                         conda_dependencies_file_path=conda_dependencies_file_path,
                         environment_definition=environment_definition,
                         distributed_training=distributed_training or distributed_backend,
                         use_gpu=use_gpu, **settings)
        self._framework_version = framework_version
        self._distributed_training = distributed_training or distributed_backend
        if environment_definition is None and not conda_file:
            self._add_framework_packages()

    def _add_framework_packages(self) -> None:
        env = self.run_config.environment
        deps = env.python.conda_dependencies
        own = {_package(p) for p in (*deps.pip_packages, *deps.conda_packages)}
        pins = [pin for pin in PINS[self.FRAMEWORK_NAME][self._framework_version]
                if _package(pin[0]) not in own]
        overridden = sorted(_package(pin[0]) for pin in PINS[self.FRAMEWORK_NAME][
            self._framework_version] if _package(pin[0]) in own)
        if overridden:
            log.warning("You have specified to install packages in your run. Note that you have "
                        "overridden Azure ML's installation of the following packages: "
                        f"{overridden}. We cannot guarantee image build will succeed.")
        for pinned, _fallback, _binary in pins:
            deps.add_pip_package(pinned)
        env._framework = {"name": self.FRAMEWORK_NAME, "version": self._framework_version,
                          "pins": [list(pin) for pin in pins]}

    @property
    def framework_version(self) -> str:
        """The framework version this estimator installs (the SDK's default if none given)."""
        return self._framework_version

    @classmethod
    def get_supported_versions(cls) -> list[str]:
        """The framework versions the SDK supports for this estimator."""
        return sorted(PINS[cls.FRAMEWORK_NAME])


def _dnn_parameters(self: Any, source_directory: str, *, compute_target: Any = None,
                    vm_size: str | None = None, vm_priority: str | None = None,
                    entry_script: str | None = None, script_params: dict | None = None,
                    node_count: int = 1, process_count_per_node: int = 1,
                    distributed_backend: Any = None, distributed_training: Any = None,
                    use_gpu: bool = False, use_docker: bool = True,
                    custom_docker_base_image: str | None = None,
                    custom_docker_image: str | None = None, image_registry_details: Any = None,
                    user_managed: bool = False, conda_packages: list | None = None,
                    pip_packages: list | None = None,
                    conda_dependencies_file_path: str | None = None,
                    pip_requirements_file_path: str | None = None,
                    conda_dependencies_file: str | None = None,
                    pip_requirements_file: str | None = None,
                    environment_variables: dict | None = None, environment_definition: Any = None,
                    inputs: list | None = None, source_directory_data_store: Any = None,
                    shm_size: str | None = None, resume_from: Any = None,
                    max_run_duration_seconds: int | None = None,
                    framework_version: str | None = None, _enable_optimized_mode: bool = False,
                    _disable_validation: bool = True, _show_lint_warnings: bool = False,
                    _show_package_warnings: bool = False) -> None:
    """The deep-learning estimators' constructor parameters, as azureml-train-core 1.62 has them
    (only its signature is used)."""


def _signature(without: tuple[str, ...] = (), extra: dict[str, int] | None = None) -> inspect.Signature:
    """`_dnn_parameters`'s signature without some parameters and with `extra` keyword ones
    (name → default) after `process_count_per_node`, as TensorFlow has them."""
    params = [p for p in inspect.signature(_dnn_parameters).parameters.values()
              if p.name not in without]
    at = [p.name for p in params].index("process_count_per_node") + 1 if extra else len(params)
    added = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=int)
             for n, d in (extra or {}).items()]
    return inspect.Signature(params[:at] + added + params[at:])


class _SignedEstimator(_FrameworkEstimator):
    """An estimator whose constructor checks its arguments against `SIGNATURE` (the SDK's own
    parameter list), so a wrong keyword is the same TypeError as with the SDK."""

    SIGNATURE = _signature()

    def __init__(self, source_directory: str, **settings: Any) -> None:
        bound = self.SIGNATURE.bind(self, source_directory, **settings).arguments
        super().__init__(source_directory, **{k: v for k, v in bound.items()
                                              if k not in ("self", "source_directory")
                                              and not k.startswith("_")})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:  # what `help()` and `inspect.signature` show
            init.__signature__ = cls.SIGNATURE


class SKLearn(_SignedEstimator):
    """Training with scikit-learn (single node, CPU)."""

    FRAMEWORK_NAME = "SKLearn"
    DEFAULT_VERSION = "0.20.3"
    SIGNATURE = _signature(without=("node_count", "process_count_per_node", "distributed_backend",
                                    "distributed_training", "use_gpu", "custom_docker_base_image",
                                    "source_directory_data_store"))

    def __init__(self, source_directory: str, **settings: Any) -> None:
        super().__init__(source_directory, **settings)


class TensorFlow(_SignedEstimator):
    """Training with TensorFlow."""

    FRAMEWORK_NAME = "TensorFlow"
    DEFAULT_VERSION = "1.13"
    SIGNATURE = _signature(extra={"worker_count": 1, "parameter_server_count": 1})

    def __init__(self, source_directory: str, **settings: Any) -> None:
        worker_count = settings.pop("worker_count", 1)
        parameter_server_count = settings.pop("parameter_server_count", 1)
        if worker_count != 1 or parameter_server_count != 1:
            log.warning("'worker_count' and 'parameter_server_count' parameters will be "
                        "deprecated. Please use them as part of 'distributed_training' parameter.")
        super().__init__(source_directory, **settings)
        self.worker_count = worker_count
        self.parameter_server_count = parameter_server_count


class PyTorch(_SignedEstimator):
    """Training with PyTorch (and torchvision, as the SDK installs both)."""

    FRAMEWORK_NAME = "PyTorch"
    DEFAULT_VERSION = "1.4"

    def __init__(self, source_directory: str, **settings: Any) -> None:
        super().__init__(source_directory, **settings)
        # As the SDK sets it, against a known Horovod hang with NCCL 2.4.
        self.run_config.environment.environment_variables["NCCL_TREE_THRESHOLD"] = "0"


class Chainer(_SignedEstimator):
    """Training with Chainer."""

    FRAMEWORK_NAME = "Chainer"
    DEFAULT_VERSION = "5.1.0"

    def __init__(self, source_directory: str, **settings: Any) -> None:
        super().__init__(source_directory, **settings)
