"""`amlocal completion bash|zsh`: scripts generated from the argparse parser, so every
command and option completes."""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess

from tests.conftest import amlocal
from tui.cli import _parser
from tui.completion import bash_script, command_words


def _commands() -> list[str]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def _complete(script: str, *words: str) -> list[str]:
    """What bash completes for the command line `words` (the last is being typed)."""
    line = " ".join(f"'{w}'" for w in words)
    code = (f"{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _amlocal; "
            'printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run([shutil.which("bash") or "/bin/bash", "--norc", "-c", code],
                          capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
    return [w for w in done.stdout.splitlines() if w]


def test_the_bash_script_lists_every_subcommand(tmp_path):
    done = amlocal("completion", "bash", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    top = re.search(r'^        ""\) words="([^"]*)" ;;$', done.stdout, re.M)
    assert top is not None
    commands = _commands()
    assert len(commands) >= 20 and "completion" in commands and "config" in commands
    assert top.group(1).split() == [*commands, "-h", "--help", "--version"]
    for command in commands:
        assert re.search(rf"^        {re.escape(command)}\)$", done.stdout, re.M), command
    assert done.stdout.splitlines()[-1] == "complete -o default -F _amlocal amlocal"


def test_bash_completes_commands_options_choices_and_actions(tmp_path):
    script = amlocal("completion", "bash", cwd=tmp_path).stdout
    assert _complete(script, "amlocal", "ru") == ["run", "runs"]
    assert _complete(script, "amlocal", "run", "--ex") == ["--executor"]
    assert _complete(script, "amlocal", "run", "--executor", "") == ["auto", "docker", "local"]
    assert _complete(script, "amlocal", "runs", "--s") == ["--status", "--since"]
    assert _complete(script, "amlocal", "config", "--u") == ["--unset", "--user"]
    assert _complete(script, "amlocal", "compute", "") == ["create", "list"]
    assert _complete(script, "amlocal", "completion", "") == ["bash", "zsh"]
    assert _complete(script, "amlocal", "--version", "wh") == ["why"]  # options before the command
    assert _complete(script, "amlocal", "run", "") == []  # a script: bash completes file names


def test_the_script_follows_the_parser_not_a_list(tmp_path):
    parser = argparse.ArgumentParser(prog="amlocal")
    sub = parser.add_subparsers(dest="command")
    brand_new = sub.add_parser("brand-new", help="a command added later")
    brand_new.add_argument("--colour", choices=("red", "blue"))
    top, commands = command_words(parser)
    assert (list(top), [(c.name, c.help, list(c.options)) for c in commands]) == \
        (["-h", "--help"], [("brand-new", "a command added later", ["-h", "--help", "--colour"])])
    script = bash_script(parser)
    assert _complete(script, "amlocal", "b") == ["brand-new"]
    assert _complete(script, "amlocal", "brand-new", "--colour", "") == ["red", "blue"]


def test_the_zsh_script_describes_every_subcommand(tmp_path):
    done = amlocal("completion", "zsh", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0] == "#compdef amlocal" and lines[-1] == "compdef _amlocal amlocal"
    described = re.findall(r"^        '([a-z-]+):", done.stdout, re.M)
    assert described == _commands()
    assert "        'show:a run'\\''s steps, parameters, git info and metrics'" in lines
    assert ("'--executor[where steps run (default\\: the workspace setting, else auto\\: Docker "
            "when an engine answers)]:executor:(auto docker local)'") in done.stdout
    if shutil.which("zsh"):
        check = subprocess.run(["zsh", "-n"], input=done.stdout, capture_output=True, text=True)
        assert (check.returncode, check.stderr) == (0, "")


def test_an_unknown_shell_is_a_one_line_usage_error(tmp_path):
    done = amlocal("completion", "fish", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("amlocal: error: argument shell: invalid choice: 'fish' (choose from "
                           "'bash', 'zsh') (see `amlocal completion --help`)\n")
