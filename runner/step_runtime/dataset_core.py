"""What FileDataset and TabularDataset share, in a script and inside a step: a JSON definition,
the files it selects, and its registration (name, version, id, description, tags).

A definition is plain JSON, so it can be stored in the registry, carried in a pipeline spec
and handed to a step:

    {"kind": "file" | "tabular",
     "sources": [{"datastore": NAME, "path": PATH} | {"folder": LOCAL FOLDER, "path": PATH}],
     "partition_format": TEXT | None, "filter": EXPRESSION | None,
     "read": {...} (tabular: the reader and its options), "transforms": [{"op": ...}, ...],
     "timestamp": {"fine": COLUMN, "coarse": COLUMN} (tabular, optional)}

PATH is a file, a folder or a glob below the source's root. Where a datastore's folder is
comes from a registry (`workspace._registry()`): the workspace's own on the host, the step's
view of it in a step (see `registry_view`). Listing never follows a link.
"""
from __future__ import annotations

import copy
import hashlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.step_runtime.dataset_partitions import PartitionFormat, select_files
from runner.step_runtime.exceptions import UserErrorException


@dataclass(frozen=True)
class SelectedFile:
    """One file of a dataset: where it is now, its path below the dataset's root (with a
    leading '/', the `Path` column), and its datastore and path there (None for a folder)."""

    local_path: Path
    path: str
    datastore: str | None
    path_on_datastore: str
    partition_values: dict


def file_draw(seed: int | None, key: str) -> float:
    """A number in [0, 1) fixed by `seed` and `key` (random when `seed` is None): how
    take_sample and random_split choose, so the two sides of a split never overlap."""
    if seed is None:
        return random.random()
    digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


def check_probability(value: Any, what: str) -> float:
    """`value` as a probability strictly between 0 and 1, else the SDK-style error."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise UserErrorException(f"{what} must be a number greater than 0 and less than 1, "
                                 f"not {value!r}")
    return float(value)


def check_count(value: Any, what: str) -> int:
    """`value` as a count of rows or files (an int >= 0)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserErrorException(f"{what} must be an int of 0 or more, not {value!r}")
    return value


class AbstractDataset:
    """The base of FileDataset and TabularDataset (`azureml.data.abstract_dataset`).

    A dataset is a definition plus, once registered, its registration. Transformations return
    a new, unregistered dataset of the same class; nothing is read until asked.
    """

    _KIND = ""

    def __init__(self) -> None:
        self._definition: dict[str, Any] = {"kind": self._KIND, "sources": [],
                                            "partition_format": None, "filter": None,
                                            "transforms": []}
        self._workspace: Any = None
        self._registration: dict[str, Any] | None = None

    # ----------------------------------------------------------------- making
    @classmethod
    def _from_definition(cls, definition: dict[str, Any], workspace: Any,
                         registration: dict[str, Any] | None = None) -> "AbstractDataset":
        dataset = cls.__new__(cls)
        AbstractDataset.__init__(dataset)
        dataset._definition = copy.deepcopy(dict(definition))
        dataset._workspace = workspace
        dataset._registration = dict(registration) if registration else None
        return dataset

    def _derive(self, transform: dict[str, Any] | None = None, **changes: Any) -> Any:
        """A new, unregistered dataset: this definition plus `transform` and `changes`."""
        definition = copy.deepcopy(self._definition)
        definition.update(changes)
        if transform is not None:
            definition["transforms"] = [*definition.get("transforms", []), transform]
        return type(self)._from_definition(definition, self._workspace)

    # ----------------------------------------------------------------- registration
    @property
    def name(self) -> str | None:
        """The registered name (None until registered)."""
        return self._registration["name"] if self._registration else None

    @property
    def version(self) -> int | None:
        """The registered version, counting from 1."""
        return self._registration["version"] if self._registration else None

    @property
    def id(self) -> str | None:
        """The registered version's id (None until registered, as in the SDK)."""
        return self._registration["id"] if self._registration else None

    @property
    def description(self) -> str | None:
        return self._registration.get("description") if self._registration else None

    @property
    def tags(self) -> dict:
        return dict(self._registration.get("tags") or {}) if self._registration else {}

    @property
    def workspace(self) -> Any:
        return self._workspace

    @property
    def data_changed_time(self) -> Any:
        """The newest modification time of the dataset's files (a UTC datetime)."""
        import datetime as dt
        times = [f.local_path.stat().st_mtime for f in self._selected_files()]
        return dt.datetime.fromtimestamp(max(times), dt.timezone.utc) if times else None

    def register(self, workspace: Any, name: str, description: str | None = None,
                 tags: dict | None = None, create_new_version: bool = False) -> Any:
        """Register this definition as `name` in `workspace`: version 1 of a new name, a new
        version with `create_new_version=True`, the latest one when it is the same definition."""
        if not isinstance(name, str) or not name.strip():
            raise UserErrorException("Dataset name must be a non-empty string")
        registration = workspace._registry().register_dataset(
            self._definition, name, description, dict(tags or {}), bool(create_new_version))
        return type(self)._from_definition(self._definition, workspace, registration)

    def update(self, description: str | None = None, tags: dict | None = None) -> Any:
        """Change the registered version's description or tags (replacing them)."""
        self._require_registered("update")
        self._registration = self._workspace._registry().update_dataset(
            self._registration["id"], description, tags)
        return self

    def add_tags(self, tags: dict | None = None) -> Any:
        """Add `tags` to the registered version's tags."""
        return self.update(tags={**self.tags, **dict(tags or {})})

    def remove_tags(self, tags: list | None = None) -> Any:
        """Remove the tags named in `tags` from the registered version."""
        return self.update(tags={k: v for k, v in self.tags.items() if k not in set(tags or ())})

    def _require_registered(self, call: str) -> None:
        if self._registration is None:
            raise UserErrorException(f"{call} needs a registered dataset; register it first "
                                     "(dataset.register(workspace, name))")

    @staticmethod
    def get_by_name(workspace: Any, name: str, version: Any = "latest", **kwargs: Any) -> Any:
        """Registered dataset `name` (its latest version, or `version`)."""
        wanted = None if version in (None, "latest") else _version_number(version)
        return workspace._registry().dataset(name, wanted, workspace)

    @staticmethod
    def get_by_id(workspace: Any, id: str, **kwargs: Any) -> Any:
        """The registered dataset version whose id is `id`."""
        return workspace._registry().dataset_by_id(id, workspace)

    @staticmethod
    def get_all(workspace: Any) -> dict[str, Any]:
        """Every registered dataset by name (each its latest version)."""
        return workspace._registry().datasets(workspace)

    # ----------------------------------------------------------------- files
    def _partition_format(self) -> PartitionFormat | None:
        text = self._definition.get("partition_format")
        return PartitionFormat.parse(text) if text else None

    def _source_root(self, source: dict[str, Any]) -> Path:
        if source.get("folder") is not None:
            return Path(source["folder"])
        if self._workspace is None:
            raise UserErrorException("this dataset has no workspace to find its datastore in")
        return Path(self._workspace._registry().datastore_folder(source["datastore"]))

    def _listed_files(self) -> list[SelectedFile]:
        """The files the sources, partition format and filter select, before transforms."""
        fmt = self._partition_format()
        out = []
        for source in self._definition.get("sources", []):
            root = self._source_root(source)
            for rel, inside in select_files(root, source.get("path") or "",
                                            self._definition.get("partition_format"),
                                            self._definition.get("filter")):
                values = (fmt.values("/" + rel) or {}) if fmt else {}
                out.append(SelectedFile(root / rel, "/" + inside, source.get("datastore"), rel,
                                        dict(values)))
        return out

    def _selected_files(self) -> list[SelectedFile]:
        """The dataset's files; a FileDataset applies its file transforms here."""
        return self._listed_files()

    def _check_has_files(self, call: str) -> None:
        """A definition whose paths match no file fails `call` in one line, naming them."""
        for source in self._definition.get("sources", []):
            single = type(self)._from_definition({**self._definition, "sources": [source],
                                                  "filter": None, "transforms": []},
                                                 self._workspace)
            if not single._listed_files():
                where = (f"{source['datastore']}:{source.get('path') or ''}"
                         if source.get("datastore") else str(Path(source["folder"]) / (source.get("path") or "")))
                raise UserErrorException(
                    f"{call}: the path {where} matches no files (looked in "
                    f"{self._source_root(source)}); check the path or upload the files first")

    @property
    def partition_keys(self) -> list[str]:
        """The columns `partition_format` makes."""
        fmt = self._partition_format()
        return list(fmt.columns) if fmt else []

    def get_partition_key_values(self, partition_keys: list[str] | None = None) -> list[dict]:
        """The distinct values of the partition columns (all of them, or `partition_keys`)."""
        keys = list(partition_keys or self.partition_keys)
        unknown = [k for k in keys if k not in self.partition_keys]
        if unknown:
            raise UserErrorException(f"{', '.join(unknown)} is not a partition key of this "
                                     f"dataset (its keys: {', '.join(self.partition_keys) or 'none'})")
        seen: list[dict] = []
        for item in self._selected_files():
            row = {k: item.partition_values.get(k) for k in keys}
            if row not in seen:
                seen.append(row)
        return seen

    def __repr__(self) -> str:
        sources = ", ".join(f"{s.get('datastore') or s.get('folder')}:{s.get('path') or ''}"
                            for s in self._definition.get("sources", []))
        where = f", name={self.name!r}, version={self.version}" if self._registration else ""
        return f"{type(self).__name__}({sources}{where})"


def _version_number(version: Any) -> int:
    """A version as given to get_by_name ("3" or 3) as an int."""
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise UserErrorException(f"version must be 'latest' or a number, not {version!r}") from None
    if number < 1:
        raise UserErrorException(f"version must be 1 or more, not {version!r}")
    return number
