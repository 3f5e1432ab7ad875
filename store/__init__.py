"""The store: SQLite records, emulated datastores and content-addressed snapshots.

This package imports neither `runner` nor `tui`.
"""
from store.errors import StoreError

__all__ = ["StoreError"]
