"""Command-line conventions of `amlocal`: one-line usage errors, and where a script's own
arguments go.

amlocal's options are recognised before or after the script path (`amlocal run pipeline.py
--executor local`); the script's own arguments follow `--` and reach it untouched. Anything
else is an error, never passed on silently: a script that ignores an argument would hide a
mistyped amlocal option.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence

USAGE_ERROR = 2
SCRIPT_COMMANDS = ("run", "watch")  # the commands that take a script and its arguments


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print `amlocal: error: MESSAGE (see `PROG --help`)` and exit 2, without the usage
        block argparse prints by default."""
        print(f"amlocal: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(USAGE_ERROR)


class VersionAction(argparse.Action):
    """`--version`: amlocal's version (from the package metadata) and the SDK versions it
    emulates; read only when asked, so other commands pay nothing for it."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print("\n".join(version_lines()))
        parser.exit()


def version_lines() -> list[str]:
    """`amlocal 0.1.0` and the line naming the SDK versions amlocal emulates."""
    from importlib.metadata import PackageNotFoundError, version

    from runner.step_runtime.versions import PIPELINE_SDK_VERSION, SDK_VERSION
    try:
        ours = version("amlocal")
    except PackageNotFoundError:  # run from a source tree that was never installed
        ours = "(not installed)"
    return [f"amlocal {ours}",
            f"emulates azureml-core {SDK_VERSION}, azureml-pipeline-core/-steps {PIPELINE_SDK_VERSION}"]


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`: its first word that is not an option (the top-level
    parser has no option that takes a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def split_script_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(amlocal's own arguments, the script's): for a command that takes a script, what
    follows the first `--` is the script's, untouched (`amlocal debug`'s: the command to run);
    otherwise nothing is."""
    argv = list(argv)
    if command_of(argv) in (*SCRIPT_COMMANDS, "debug") and "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1:]
    return argv, []


def refuse_extras(command: str, extras: list[str], script: str | None) -> NoReturn:
    """Exit 2 with one line naming the first argument amlocal does not know and, for a
    command that takes a script, where the script's arguments go."""
    first = extras[0]
    what = f"unknown option {first}" if first.startswith("-") and first != "-" \
        else f"unexpected argument {first!r}"
    if command not in SCRIPT_COMMANDS:
        print(f"amlocal: error: {what} for `amlocal {command}` (see `amlocal {command} --help`)",
              file=sys.stderr)
        sys.exit(USAGE_ERROR)
    example = " ".join([f"amlocal {command}", script or "SCRIPT", "--", *extras])
    print(f"amlocal: error: {what} for `amlocal {command}`; put the script's own arguments "
          f"after --: {example}", file=sys.stderr)
    sys.exit(USAGE_ERROR)


def statuses(text: str) -> list[str]:
    """`--status`: one status or several, comma-separated, in any case (`failed`,
    `Failed,Canceled`), as the store spells them."""
    from store import status as st
    known = {s.lower(): s for s in (*sorted(st.ACTIVE), *sorted(st.TERMINAL))}
    words = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in words if w.lower() not in known]
    if unknown or not words:
        raise argparse.ArgumentTypeError(
            f"{(unknown or [text])[0]!r} is not a run status (statuses: {', '.join(known.values())})")
    return [known[w.lower()] for w in words]


def since(text: str) -> float:
    """`--since DATE|DURATION` as a Unix time (see `tui.formatting.parse_since`)."""
    from tui.formatting import parse_since
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
