"""Watch mode: rerun what a saved file invalidates (a client of `runner.client`)."""
