"""Datastores, emulated as folders of the local workspace (`datastores/<name>/`).

`Datastore(ws, name)` returns the registered class (blob container or file share), as in the
SDK. Upload and download keep the SDK's semantics: blob names are `target_path/relative
path`, existing blobs are skipped unless `overwrite=True`. No path may leave its datastore.
Credentials given at registration are never stored; only which kind was given is recorded.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from runner.sdk.cloud_only_datastores import CloudOnlyDatastores
from runner.step_runtime.exceptions import UserErrorException
from store import catalog
from store.errors import StoreError
from store.nofollow import copy_file_out, copy_tree, open_dir_beneath, walk
from store.datastore_paths import check_name, normalize_datastore_path, resolve_in_datastore

_SECRET_FIELDS = ("sas_token", "account_key", "client_secret", "user_password", "password",
                  "access_token", "kerberos_password")


def _public_config(**fields: Any) -> dict:
    """Registration fields without secrets: a secret becomes `"<name>": "<set>"`."""
    return {k: ("<set>" if k in _SECRET_FIELDS else v) for k, v in fields.items() if v is not None}


class AbstractDatastore:
    """What every datastore offers: a name, a folder, and data references to it."""

    datastore_type_name = "Abstract"

    def __init__(self, workspace: Any, name: str, datastore_type: str | None = None) -> None:
        self._workspace = workspace
        self._name = name
        self._datastore_type = datastore_type or self.datastore_type_name

    @property
    def name(self) -> str:
        return self._name

    @property
    def workspace(self) -> Any:
        return self._workspace

    @property
    def datastore_type(self) -> str:
        return self._datastore_type

    @property
    def _root(self) -> Path:
        return self._workspace._local.layout.datastore_dir(self._name)

    def _local_path(self, path_on_datastore: str | None, what: str = "path_on_datastore") -> Path:
        """The folder or file of `path_on_datastore`, refusing any path that leaves the store."""
        self._root.mkdir(parents=True, exist_ok=True)
        return resolve_in_datastore(self._root, path_on_datastore, what=what)

    def path(self, path: str | None = None, data_reference_name: str | None = None) -> Any:
        """A DataReference to `path` on this datastore."""
        from runner.sdk.data import DataReference
        return DataReference(self, data_reference_name, path)

    def as_mount(self) -> Any:
        return self.path().as_mount()

    def as_download(self, path_on_compute: str | None = None) -> Any:
        return self.path().as_download(path_on_compute)

    def as_upload(self, path_on_compute: str | None = None) -> Any:
        return self.path().as_upload(path_on_compute)

    def set_as_default(self) -> None:
        catalog.set_default_datastore(self._workspace._local.conn, self._name)

    def unregister(self) -> None:
        """Forget the registration; the folder and its files stay on disk."""
        catalog.unregister_datastore(self._workspace._local.conn, self._name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self._name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AbstractDatastore) and other._name == self._name

    def __hash__(self) -> int:
        return hash(self._name)


class AbstractAzureStorageDatastore(AbstractDatastore):
    """A blob container or file share: files under a folder, with upload and download."""

    def __init__(self, workspace: Any, name: str, datastore_type: str, container_name: str,
                 account_name: str, sas_token: str | None = None, account_key: str | None = None,
                 protocol: str | None = None, endpoint: str | None = None) -> None:
        super().__init__(workspace, name, datastore_type)
        self.container_name = container_name
        self.account_name = account_name
        self.protocol = protocol or "https"
        self.endpoint = endpoint or "core.windows.net"
        self._has_sas = sas_token is not None

    @property
    def is_sas(self) -> bool:
        return self._has_sas

    def upload_files(self, files: Iterable[str], relative_root: str | None = None,
                     target_path: str | None = None, overwrite: bool = False,
                     show_progress: bool = True) -> Any:
        """Copy `files` to `target_path/<path relative to relative_root>`; returns a DataReference."""
        sources = [Path(f).resolve() for f in files]
        for src in sources:
            if not src.is_file():
                raise UserErrorException(f"upload_files: {src} is not a file")
        if not sources:
            raise UserErrorException("upload_files: no files given")
        if relative_root is None:
            relative_root = (str(sources[0].parent) if len(sources) == 1
                             else os.path.commonpath([str(s.parent) for s in sources]))
        root = Path(relative_root).resolve()
        target = normalize_datastore_path(target_path, what="target_path")
        pairs = []
        for src in sources:
            rel = os.path.relpath(src, root)
            if rel.startswith(".."):
                raise UserErrorException(f"upload_files: {src} is not under relative_root {root}")
            blob = "/".join(p for p in (target, Path(rel).as_posix()) if p)
            pairs.append((src, blob))
        self._copy_in(pairs, overwrite, show_progress)
        from runner.sdk.data import DataReference
        return DataReference(self, path_on_datastore=target_path)

    def upload(self, src_dir: str, target_path: str | None = None, overwrite: bool = False,
               show_progress: bool = True) -> Any:
        """Copy the folder `src_dir` (recursively) to `target_path`; returns a DataReference."""
        src = Path(src_dir).resolve()
        if not src.is_dir():
            raise UserErrorException(f"upload: {src} is not a directory")
        target = normalize_datastore_path(target_path, what="target_path")
        pairs = []
        for dirpath, _dirs, names in os.walk(src):
            for n in sorted(names):
                full = Path(dirpath) / n
                rel = full.relative_to(src).as_posix()
                pairs.append((full, f"{target}/{rel}" if target else rel))
        self._copy_in(pairs, overwrite, show_progress)
        from runner.sdk.data import DataReference
        return DataReference(self, path_on_datastore=target_path)

    def _copy_in(self, pairs: list[tuple[Path, str]], overwrite: bool, show_progress: bool) -> None:
        if show_progress:
            print(f"Uploading an estimated of {len(pairs)} files")
        uploaded = 0
        root = self._root.resolve()
        for src, blob in pairs:
            dest = self._local_path(blob, what="target_path")
            if os.path.lexists(dest) and not overwrite:
                if show_progress:
                    print(f"Target already exists. Skipping upload for {blob}")
                continue
            try:  # written under a fresh name, then renamed: no link a step planted is followed
                copy_tree(src, root, dest.relative_to(root), f"upload {src}",
                          f"datastore {self.name}")
            except StoreError as exc:
                raise UserErrorException(f"upload_files: {exc}") from exc
            uploaded += 1
            if show_progress:
                print(f"Uploading {src}\nUploaded {blob}, {uploaded} files out of an estimated "
                      f"total of {len(pairs)}")
        if show_progress:
            print(f"Uploaded {uploaded} files")

    def _files_under(self, prefix: str, what: str) -> list[str]:
        """The datastore paths of the regular files `prefix` names: a file, a
        folder, or a partial name as with blobs; read without following a link, a link to
        outside the datastore or a special file an UnsafeFileError."""
        folder = prefix
        try:
            fd = open_dir_beneath(self._root, prefix, what)
        except (NotADirectoryError, FileNotFoundError):
            folder = prefix.rpartition("/")[0]
            try:
                fd = open_dir_beneath(self._root, folder, what)
            except (NotADirectoryError, FileNotFoundError):
                return []
        try:
            names = [f"{folder}/{e.rel}" if folder else e.rel
                     for e in walk(fd, what) if e.kind == "file"]
        finally:
            os.close(fd)
        if folder == prefix:
            return names
        if prefix in names:
            return [prefix]
        return [n for n in names if n.startswith(prefix)]

    def download(self, target_path: str, prefix: str | None = None, overwrite: bool = False,
                 show_progress: bool = True) -> int:
        """Copy the files under `prefix` into `target_path`, keeping their datastore paths."""
        prefix_clean = normalize_datastore_path(prefix, what="prefix")
        self._root.mkdir(parents=True, exist_ok=True)
        what = f"datastore {self.name}"
        try:
            names = self._files_under(prefix_clean, what)
        except StoreError as exc:
            raise UserErrorException(f"download: {exc}") from exc
        count = 0
        for rel in names:
            dest = Path(target_path) / rel
            if dest.exists() and not overwrite:
                if show_progress:
                    print(f"Target already exists. Skipping download for {rel}")
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                copy_file_out(self._root, rel, dest, what)
            except StoreError as exc:
                raise UserErrorException(f"download: {exc}") from exc
            count += 1
        if show_progress:
            print(f"Downloaded {count} files")
        return count


class AzureBlobDatastore(AbstractAzureStorageDatastore):
    """A blob container, emulated as the folder `datastores/<name>/`."""

    datastore_type_name = "AzureBlob"

    def __init__(self, workspace: Any, name: str, container_name: str, account_name: str,
                 sas_token: str | None = None, account_key: str | None = None,
                 protocol: str | None = None, endpoint: str | None = None,
                 request_session: Any = None, workspace_msi_has_access: bool = False,
                 subscription_id: str | None = None, resource_group: str | None = None,
                 service_data_access_auth_identity: Any = None) -> None:
        super().__init__(workspace, name, "AzureBlob", container_name, account_name, sas_token,
                         account_key, protocol, endpoint)


class AzureFileDatastore(AbstractAzureStorageDatastore):
    """A file share, emulated as the folder `datastores/<name>/`."""

    datastore_type_name = "AzureFile"

    def __init__(self, workspace: Any, name: str, container_name: str, account_name: str,
                 sas_token: str | None = None, account_key: str | None = None,
                 protocol: str | None = None, endpoint: str = "core.windows.net",
                 request_session: Any = None) -> None:
        super().__init__(workspace, name, "AzureFile", container_name, account_name, sas_token,
                         account_key, protocol, endpoint)


_CLASSES = {"AzureBlob": AzureBlobDatastore, "AzureFile": AzureFileDatastore}


def _load(workspace: Any, name: str) -> AbstractDatastore:
    record = catalog.get_datastore(workspace._local.conn, name)
    if record is None:  # maybe declared in amlocal.yaml, or a folder under datastores/
        from runner.resources.registry import apply_declarations
        apply_declarations(workspace._local)
        record = catalog.get_datastore(workspace._local.conn, name)
    if record is None:
        from runner.resources.hints import missing_datastore_hint
        from runner.step_runtime.http_errors import LocalServiceError
        known = ", ".join(d.name for d in catalog.list_datastores(workspace._local.conn))
        raise LocalServiceError(f"Could not find datastore: {name} "
                                f"({missing_datastore_hint(name)}; registered: {known})")
    config = record.config
    cls = _CLASSES.get(record.datastore_type)
    if cls is None:
        return AbstractDatastore(workspace, name, record.datastore_type)
    return cls(workspace, name, config.get("container_name", name), config.get("account_name", "local"),
               protocol=config.get("protocol"), endpoint=config.get("endpoint") or "core.windows.net")


class Datastore(CloudOnlyDatastores):
    """`Datastore(ws, name)` returns the registered datastore; the statics register new ones
    (blob containers and file shares, as local folders; cloud-only kinds are refused)."""

    def __new__(cls, workspace: Any, name: str | None = None) -> Any:
        if name is None:
            name = catalog.default_datastore_name(workspace._local.conn)
        return _load(workspace, name)

    @staticmethod
    def get(workspace: Any, datastore_name: str) -> Any:
        return _load(workspace, datastore_name)

    @staticmethod
    def get_default(workspace: Any) -> Any:
        return workspace.get_default_datastore()

    @staticmethod
    def register_azure_blob_container(workspace: Any, datastore_name: str, container_name: str,
                                      account_name: str, sas_token: str | None = None,
                                      account_key: str | None = None, protocol: str | None = None,
                                      endpoint: str | None = None, overwrite: bool = False,
                                      create_if_not_exists: bool = False,
                                      skip_validation: bool = False,
                                      blob_cache_timeout: int | None = None,
                                      grant_workspace_access: bool = False,
                                      subscription_id: str | None = None,
                                      resource_group: str | None = None) -> AzureBlobDatastore:
        """Register a blob container; locally, a new folder of the workspace."""
        check_name(datastore_name, what="datastore_name")
        config = _public_config(container_name=container_name, account_name=account_name,
                                sas_token=sas_token, account_key=account_key, protocol=protocol,
                                endpoint=endpoint)
        catalog.register_datastore(workspace._local.conn, datastore_name, "AzureBlob", config, overwrite)
        workspace._local.layout.datastore_dir(datastore_name).mkdir(parents=True, exist_ok=True)
        return _load(workspace, datastore_name)

    @staticmethod
    def register_azure_file_share(workspace: Any, datastore_name: str, file_share_name: str,
                                  account_name: str, sas_token: str | None = None,
                                  account_key: str | None = None, protocol: str | None = None,
                                  endpoint: str | None = None, overwrite: bool = False,
                                  create_if_not_exists: bool = False,
                                  skip_validation: bool = False) -> AzureFileDatastore:
        """Register a file share; locally, a new folder of the workspace."""
        check_name(datastore_name, what="datastore_name")
        config = _public_config(container_name=file_share_name, account_name=account_name,
                                sas_token=sas_token, account_key=account_key, protocol=protocol,
                                endpoint=endpoint)
        catalog.register_datastore(workspace._local.conn, datastore_name, "AzureFile", config, overwrite)
        workspace._local.layout.datastore_dir(datastore_name).mkdir(parents=True, exist_ok=True)
        return _load(workspace, datastore_name)
