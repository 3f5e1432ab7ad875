"""The Azure ML SDK v1-shaped API, backed by the local workspace.

Import the classes from here (`from runner.sdk import Workspace, Pipeline, …`) or, in an
unmodified script run with `amlocal run`, from the usual `azureml.*` modules.
"""
from runner.sdk.authentication import (AzureCliAuthentication, InteractiveLoginAuthentication,
                                       MsiAuthentication, ServicePrincipalAuthentication,
                                       TokenAuthentication)
from runner.sdk.compute import (AdlaCompute, AmlCompute, ComputeTarget, DatabricksCompute)
from runner.sdk.compute_instance import ComputeInstance
from runner.sdk.data import (DataPath, DataPathComputeBinding, DataReference, Dataset,
                             DatasetConsumptionConfig, FileDataset, FileDatasetFactory,
                             OutputFileDatasetConfig)
from runner.sdk.datastore import AzureBlobDatastore, AzureFileDatastore, Datastore
from runner.sdk.conda_dependencies import CondaDependencies
from runner.sdk.environment import Environment
from runner.sdk.runconfig import RunConfiguration
from runner.sdk.estimator import Estimator
from runner.sdk.experiment import Experiment
from runner.sdk.framework_estimators import Chainer, PyTorch, SKLearn, TensorFlow
from runner.sdk.keyvault import Keyvault
from runner.sdk.module import Module
from runner.sdk.pipeline import Pipeline, PublishedPipeline, StepSequence
from runner.sdk.pipeline_data import InputPortBinding, PipelineData, PipelineParameter
from runner.sdk.runs import PipelineRun, PortDataReference, StepRun
from runner.sdk.steps import (DatabricksStep, DataTransferStep, EstimatorStep, ModuleStep,
                              MpiStep, PipelineStep, PythonScriptStep)
from runner.sdk.workspace import Workspace
from runner.step_runtime import Run

__all__ = [name for name in dir() if name[0].isupper()]
