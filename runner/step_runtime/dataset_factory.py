"""`Dataset.File` and `Dataset.Tabular`: datasets made from datastore paths as the SDK takes
them — a `(datastore, path)` tuple, a DataPath, a DataReference, or a list of them, each path
a file, a folder or a glob.

Which classes are made, and how a datastore path is checked, are the workspace registry's
(`datastore.workspace._registry()`), so a script gets the host SDK's classes and a step the
step's own. Standard library only.
"""
from __future__ import annotations

import os
from typing import Any

from runner.step_runtime.dataset_core import AbstractDataset
from runner.step_runtime.exceptions import UserErrorException
from runner.step_runtime.tabular_read import check_read_options

# PromoteHeadersBehavior's values (True is ALL_FILES_HAVE_SAME_HEADERS, False NO_HEADERS).
_HEADERS = {0: "no_headers", 1: "from_first_file", 2: "combine_all_files_headers",
            3: "all_files_same_headers"}
_ENCODINGS = ("utf8", "iso88591", "latin1", "ascii", "utf16", "utf32", "utf8bom", "windows1252")


def _parts(item: Any) -> tuple[Any, str | None]:
    """(datastore, path) of one path argument."""
    if isinstance(item, tuple) and len(item) == 2:
        return item
    if hasattr(item, "_datastore") and hasattr(item, "path_on_datastore"):  # DataPath
        return item._datastore, item.path_on_datastore
    if hasattr(item, "datastore") and hasattr(item, "path_on_datastore"):  # DataReference
        return item.datastore, item.path_on_datastore
    if isinstance(item, str) and "://" in item:
        raise UserErrorException(
            f"{item}: datasets from URLs are not available locally (no network access "
            "to storage); upload the files to a datastore and use (datastore, path)")
    raise UserErrorException("from_files takes a DataPath, a DataReference (datastore.path(...)) "
                             f"or a (datastore, path) tuple, not {item!r}")


def dataset_sources(path: Any) -> tuple[Any, list[dict[str, str]]]:
    """(workspace, sources) of a factory's `path` argument."""
    items = path if isinstance(path, list) else [path]
    if not items:
        raise UserErrorException("path must name at least one (datastore, path)")
    workspace, sources = None, []
    for item in items:
        datastore, where = _parts(item)
        if not hasattr(datastore, "name") or not hasattr(datastore, "workspace"):
            raise UserErrorException(f"{datastore!r} is not a datastore; use "
                                     "(ws.get_default_datastore(), 'path')")
        workspace = workspace or datastore.workspace
        sources.append({"datastore": datastore.name,
                        "path": workspace._registry().normalize_path(where)})
    return workspace, sources


def glob_folder(path: str) -> str:
    """The folder before the first path segment with a wildcard (`path` itself without one)."""
    parts = path.split("/") if path else []
    for i, part in enumerate(parts):
        if set("*?[") & set(part):
            return "/".join(parts[:i])
    return path


def _make(kind: str, path: Any, validate: bool, call: str, **definition: Any) -> AbstractDataset:
    workspace, sources = dataset_sources(path)
    registry = workspace._registry()
    if definition.get("partition_format") is not None:
        from runner.step_runtime.dataset_partitions import PartitionFormat
        PartitionFormat.parse(definition["partition_format"])
    dataset = registry.dataset_class(kind)._from_definition(
        {"kind": kind, "sources": sources, "partition_format": None, "filter": None,
         "transforms": [], **definition}, workspace)
    if validate:
        for source in sources:
            single = dataset._derive(sources=[source])
            if not single._listed_files():
                folder = os.path.join(str(registry.datastore_folder(source["datastore"])),
                                      glob_folder(source["path"]))
                raise UserErrorException(
                    f"Dataset validation failed: {source['datastore']}:{source['path']} has no "
                    f"files (looked in {folder.rstrip('/')})")
    return dataset


def _column_types(set_column_types: Any) -> dict[str, Any]:
    if set_column_types is None:
        return {}
    if not isinstance(set_column_types, dict):
        raise UserErrorException("set_column_types takes a dict of column name -> DataType")
    out = {}
    for column, kind in set_column_types.items():
        if not hasattr(kind, "to_json"):
            raise UserErrorException(f"set_column_types[{column!r}] must be a DataType "
                                     "(DataType.to_long(), to_float(), …), not {kind!r}")
        out[column] = kind.to_json()
    return out


def _header(header: Any) -> str:
    value = getattr(header, "value", header)  # PromoteHeadersBehavior
    if isinstance(value, str) and value in _HEADERS.values():
        return value
    if isinstance(value, bool):
        return "all_files_same_headers" if value else "no_headers"
    if isinstance(value, int) and value in _HEADERS:
        return _HEADERS[value]
    raise UserErrorException(f"header must be True, False or a PromoteHeadersBehavior, not {header!r}")


def _encoding(encoding: Any) -> str:
    value = str(getattr(encoding, "value", encoding)).lower().replace("-", "").replace("_", "")
    if value not in _ENCODINGS:
        raise UserErrorException(f"encoding {encoding!r} is not supported; use one of "
                                 f"{', '.join(_ENCODINGS)}")
    return value


def delimited_read(include_path: bool = False, infer_column_types: bool = True,
                   set_column_types: Any = None, separator: str = ",", header: Any = True,
                   support_multi_line: bool = False, empty_as_string: bool = False,
                   encoding: str = "utf8") -> dict[str, Any]:
    """The `read` part of a definition of delimited files (checked), as
    `from_delimited_files` and the dataset outputs (`read_delimited_files`) build it."""
    if not isinstance(separator, str) or not separator:
        raise UserErrorException(f"separator must be a non-empty string, not {separator!r}")
    read = {"format": "delimited", "separator": separator, "header": _header(header),
            "infer_column_types": bool(infer_column_types),
            "set_column_types": _column_types(set_column_types),
            "support_multi_line": bool(support_multi_line),
            "empty_as_string": bool(empty_as_string), "encoding": _encoding(encoding),
            "include_path": bool(include_path)}
    check_read_options(read)
    return read


def parquet_read(include_path: bool = False, set_column_types: Any = None) -> dict[str, Any]:
    """The `read` part of a definition of Parquet files."""
    return {"format": "parquet", "include_path": bool(include_path),
            "set_column_types": _column_types(set_column_types)}


class FileDatasetFactory:
    """`Dataset.File`: builds FileDatasets."""

    @staticmethod
    def from_files(path: Any, validate: bool = True, partition_format: str | None = None,
                   is_file: bool = False) -> Any:
        """A FileDataset over the files at `path`; `validate` checks each path has files."""
        return _make("file", path, validate, "from_files", partition_format=partition_format)

    @staticmethod
    def upload_directory(src_dir: str, target: Any, pattern: str | None = None,
                         overwrite: bool = False, show_progress: bool = True) -> Any:
        """Upload the files of `src_dir` to `target` (a (datastore, path) or DataPath) and
        return a FileDataset over them."""
        datastore, where = _parts(target)
        datastore.upload(src_dir, target_path=where, overwrite=overwrite,
                         show_progress=show_progress)
        glob = f"{where.rstrip('/')}/{pattern}" if pattern and where else (pattern or where)
        return _make("file", (datastore, glob or ""), True, "upload_directory")


class TabularDatasetFactory:
    """`Dataset.Tabular`: builds TabularDatasets."""

    @staticmethod
    def from_delimited_files(path: Any, validate: bool = True, include_path: bool = False,
                             infer_column_types: bool = True, set_column_types: Any = None,
                             separator: str = ",", header: Any = True,
                             partition_format: str | None = None, support_multi_line: bool = False,
                             empty_as_string: bool = False, encoding: str = "utf8") -> Any:
        """A TabularDataset of delimited (CSV, TSV, …) files."""
        read = delimited_read(include_path, infer_column_types, set_column_types, separator,
                              header, support_multi_line, empty_as_string, encoding)
        return _make("tabular", path, validate, "from_delimited_files", read=read,
                     partition_format=partition_format)

    @staticmethod
    def from_parquet_files(path: Any, validate: bool = True, include_path: bool = False,
                           set_column_types: Any = None, partition_format: str | None = None) -> Any:
        """A TabularDataset of Parquet files."""
        read = parquet_read(include_path, set_column_types)
        return _make("tabular", path, validate, "from_parquet_files", read=read,
                     partition_format=partition_format)

    @staticmethod
    def from_json_lines_files(path: Any, validate: bool = True, include_path: bool = False,
                              set_column_types: Any = None, partition_format: str | None = None,
                              invalid_lines: str = "error", encoding: str = "utf8") -> Any:
        """A TabularDataset of JSON-lines files (one object per line)."""
        if invalid_lines not in ("error", "drop"):
            raise UserErrorException(f"invalid_lines must be 'error' or 'drop', not {invalid_lines!r}")
        read = {"format": "json_lines", "include_path": bool(include_path),
                "set_column_types": _column_types(set_column_types),
                "invalid_lines": invalid_lines, "encoding": _encoding(encoding)}
        return _make("tabular", path, validate, "from_json_lines_files", read=read,
                     partition_format=partition_format)

    @staticmethod
    def register_pandas_dataframe(dataframe: Any, target: Any, name: str,
                                  description: str | None = None, tags: dict | None = None,
                                  show_progress: bool = True, row_group_size: int | None = None,
                                  make_target_path_unique: bool = True) -> Any:
        """Write `dataframe` as Parquet under `target` on a datastore and register it."""
        import uuid
        datastore, where = _parts(target)
        registry = datastore.workspace._registry()
        folder_path = "/".join(p for p in ((where or "").strip("/"),
                                            uuid.uuid4().hex if make_target_path_unique else "") if p)
        folder = os.path.join(str(registry.datastore_folder(datastore.name)), folder_path)
        os.makedirs(folder, exist_ok=True)
        try:
            dataframe.to_parquet(os.path.join(folder, "part-00000.parquet"), index=False,
                                 row_group_size=row_group_size)
        except ImportError:
            raise UserErrorException("register_pandas_dataframe needs pyarrow: add pyarrow to "
                                     "this environment (pip install pyarrow)") from None
        dataset = TabularDatasetFactory.from_parquet_files((datastore, f"{folder_path}/*.parquet"
                                                            if folder_path else "*.parquet"))
        return dataset.register(datastore.workspace, name, description, tags,
                                create_new_version=True)


class Dataset:
    """The SDK's dataset entry point (`azureml.core.Dataset`): `Dataset.File`,
    `Dataset.Tabular`, and the registry lookups."""

    File = FileDatasetFactory
    Tabular = TabularDatasetFactory

    get_by_name = staticmethod(AbstractDataset.get_by_name)
    get_by_id = staticmethod(AbstractDataset.get_by_id)
    get_all = staticmethod(AbstractDataset.get_all)

    @staticmethod
    def get(workspace: Any, name: str | None = None, id: str | None = None) -> Any:
        """The registered dataset named `name` (latest version) or with id `id`."""
        if (name is None) == (id is None):
            raise UserErrorException("Dataset.get takes exactly one of name or id")
        return Dataset.get_by_name(workspace, name) if name is not None \
            else Dataset.get_by_id(workspace, id)

    @staticmethod
    def list(workspace: Any) -> list[Any]:
        """Every registered dataset (each its latest version)."""
        return list(workspace._registry().datasets(workspace).values())

    @staticmethod
    def from_sql_query(data_source: Any, query: str) -> Any:
        """Refused: SQL databases exist only in Azure (a cloud-only source)."""
        raise UserErrorException(
            "Dataset.from_sql_query: SQL databases are a cloud-only source amlocal cannot read; "
            "export the query's result to files on a datastore and use Dataset.File.from_files")
