"""The status words of runs and step runs: the SDK's own, shared by runner, CLI and dashboard."""

NOT_STARTED = "NotStarted"
QUEUED = "Queued"
PREPARING = "Preparing"  # building the step's image (the SDK's "Preparing" phase)
RUNNING = "Running"
FINISHED = "Finished"
FAILED = "Failed"
CANCELED = "Canceled"

ACTIVE = frozenset({NOT_STARTED, QUEUED, PREPARING, RUNNING})
TERMINAL = frozenset({FINISHED, FAILED, CANCELED})

# "?, ?, …" for an SQL `IN` over the active statuses.
ACTIVE_PLACEHOLDERS = ", ".join("?" * len(ACTIVE))
