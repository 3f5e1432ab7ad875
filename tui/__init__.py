"""The user-facing layer: the `amlocal` command line and the Textual dashboard (`tui.dashboard`)."""
