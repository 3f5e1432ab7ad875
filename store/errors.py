"""Errors raised by the store."""


class StoreError(Exception):
    """Base class of every error the store raises; its message is meant for the user."""


class SchemaVersionError(StoreError):
    """The database was written by a different schema version of amlocal."""


class UnsafePathError(StoreError, ValueError):
    """A datastore path tries to leave its datastore (`..`, an absolute path)."""


class NotFoundError(StoreError, LookupError):
    """A record (run, step, experiment, …) that the caller named does not exist."""
