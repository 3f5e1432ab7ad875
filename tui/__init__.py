"""The user-facing layer: the `amlocal` command line (and later the dashboard)."""
