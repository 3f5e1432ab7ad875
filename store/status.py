"""The status words of runs and step runs: the SDK's own, shared by runner, CLI and dashboard."""

NOT_STARTED = "NotStarted"
QUEUED = "Queued"
RUNNING = "Running"
FINISHED = "Finished"
FAILED = "Failed"
CANCELED = "Canceled"

ACTIVE = frozenset({NOT_STARTED, QUEUED, RUNNING})
TERMINAL = frozenset({FINISHED, FAILED, CANCELED})
