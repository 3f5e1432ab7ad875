"""The datastore kinds that exist only in Azure (SQL databases, Data Lake, DBFS, HDFS):
registering one fails at once, in one line naming the local alternative, instead of a pipeline
failing later on data it cannot reach."""
from __future__ import annotations

from typing import Any, Callable, NoReturn

from runner.step_runtime.exceptions import UserErrorException

_FILES_INSTEAD = ("export the data to files and register a local folder for them with "
                  "Datastore.register_azure_blob_container (or upload them to workspaceblobstore)")
CLOUD_ONLY_KINDS = {
    "register_azure_sql_database": ("Azure SQL Database", _FILES_INSTEAD),
    "register_azure_my_sql": ("Azure Database for MySQL", _FILES_INSTEAD),
    "register_azure_postgre_sql": ("Azure Database for PostgreSQL", _FILES_INSTEAD),
    "register_azure_data_lake": ("Azure Data Lake Storage Gen1", _FILES_INSTEAD),
    "register_azure_data_lake_gen2": ("Azure Data Lake Storage Gen2", _FILES_INSTEAD),
    "register_dbfs": ("the Databricks File System (DBFS)", _FILES_INSTEAD),
    "register_hdfs": ("HDFS", _FILES_INSTEAD),
}


def refusal(method: str) -> UserErrorException:
    """The one-line error for registering a cloud-only datastore with `method`."""
    kind, instead = CLOUD_ONLY_KINDS[method]
    return UserErrorException(f"Datastore.{method}: {kind} is a cloud-only datastore amlocal "
                              f"cannot reach; {instead}")


def _refuse(method: str) -> Callable[..., NoReturn]:
    def register(workspace: Any, datastore_name: str, *args: Any, **kwargs: Any) -> NoReturn:
        raise refusal(method)
    register.__name__ = method
    register.__doc__ = f"Refused: {CLOUD_ONLY_KINDS[method][0]} exists only in Azure."
    return register


class CloudOnlyDatastores:
    """Mixin of `Datastore`: the SDK's `register_*` methods for cloud-only kinds, refusing."""

    register_azure_sql_database = staticmethod(_refuse("register_azure_sql_database"))
    register_azure_my_sql = staticmethod(_refuse("register_azure_my_sql"))
    register_azure_postgre_sql = staticmethod(_refuse("register_azure_postgre_sql"))
    register_azure_data_lake = staticmethod(_refuse("register_azure_data_lake"))
    register_azure_data_lake_gen2 = staticmethod(_refuse("register_azure_data_lake_gen2"))
    register_dbfs = staticmethod(_refuse("register_dbfs"))
    register_hdfs = staticmethod(_refuse("register_hdfs"))
