"""The kinds of workspace resource a project can declare (amlocal.yaml, `amlocal compute
create`): kept apart, and import-free, so the command line can offer them as choices cheaply."""

COMPUTE_TYPES = ("AmlCompute", "ComputeInstance")
DATASTORE_TYPES = ("AzureBlob", "AzureFile")
