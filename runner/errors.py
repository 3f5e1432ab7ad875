"""The runner's base error, for problems that are not a mistake in SDK usage."""


class RunnerError(Exception):
    """Base class of runner errors; the message is meant for the user."""
