"""TabularDataset in a pipeline script: the step-side class (`runner.step_runtime.
tabular_dataset`, which reads the table) plus being a step input."""
from __future__ import annotations

from runner.sdk.data import HostDatasetInputs
from runner.step_runtime import tabular_dataset as step_tabular


class TabularDataset(HostDatasetInputs, step_tabular.TabularDataset):
    """Rows and columns read from files on datastore paths (`azureml.data.TabularDataset`).

    A step gets it as an object (`run.input_datasets[name]`), never as a mount or download,
    as in the SDK.
    """
