"""`amlocal compute`, `amlocal datastore` and `amlocal secret`: the workspace resources a
project expects before its script runs, made and listed from the command line.

    amlocal compute create NAME [--vm-size SIZE] [--max-nodes N] [--min-nodes N] [--type T]
    amlocal compute list
    amlocal datastore register NAME [--from DIR] [--type AzureBlob|AzureFile]
    amlocal datastore list
    amlocal secret set NAME          # the value is read from stdin (never an argument)
    amlocal secret list
    amlocal secret rm NAME

Lists also apply the nearest amlocal.yaml, as the SDK does when a script opens the workspace.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from store.errors import StoreError
from tui.formatting import table, when

COMMANDS = ("compute", "datastore", "secret")


class ResourceCommandError(StoreError):
    """A resource command was given something it cannot use."""


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the compute, datastore and secret commands to the `amlocal` parser."""
    from runner.resources.kinds import COMPUTE_TYPES, DATASTORE_TYPES
    compute = sub.add_parser("compute", help="compute targets: create, list")
    compute_sub = compute.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = compute_sub.add_parser("create", help="create (or replace) a compute target")
    create.add_argument("name")
    create.add_argument("--vm-size", help="e.g. STANDARD_D2_V2: each step's CPU and memory limit")
    create.add_argument("--max-nodes", type=int, default=1,
                        help="how many of its steps run at once (default 1)")
    create.add_argument("--min-nodes", type=int, default=0, help="recorded (default 0)")
    create.add_argument("--type", choices=COMPUTE_TYPES, default="AmlCompute")
    compute_sub.add_parser("list", help="the workspace's compute targets")
    datastore = sub.add_parser("datastore", help="datastores: register, list")
    datastore_sub = datastore.add_subparsers(dest="action", required=True, metavar="ACTION")
    register = datastore_sub.add_parser("register", help="register a datastore (a folder)")
    register.add_argument("name")
    register.add_argument("--from", dest="source", metavar="DIR",
                          help="copy the files of DIR in (files already there are kept)")
    register.add_argument("--type", choices=DATASTORE_TYPES, default="AzureBlob")
    datastore_sub.add_parser("list", help="the workspace's datastores")
    secret = sub.add_parser("secret", help="the workspace's Key Vault: set, list, rm")
    secret_sub = secret.add_subparsers(dest="action", required=True, metavar="ACTION")
    set_ = secret_sub.add_parser("set", help="set a secret; its value is read from stdin")
    set_.add_argument("name")
    secret_sub.add_parser("list", help="the secrets' names (never their values)")
    remove = secret_sub.add_parser("rm", help="remove a secret")
    remove.add_argument("name")


def _open(create: bool):
    from store.layout import find_or_create_workspace, require_workspace
    from store.workspace import open_workspace
    if create:
        layout, created = find_or_create_workspace()
        if created:
            print(f"amlocal: created a workspace in {layout.root}", file=sys.stderr)
    else:
        layout = require_workspace()
    return open_workspace(layout)


def run(args: argparse.Namespace) -> int:
    """Run a compute, datastore or secret command; returns the exit status."""
    handler = {("compute", "create"): _compute_create, ("compute", "list"): _compute_list,
               ("datastore", "register"): _datastore_register,
               ("datastore", "list"): _datastore_list, ("secret", "set"): _secret_set,
               ("secret", "list"): _secret_list, ("secret", "rm"): _secret_rm}
    return handler[(args.command, args.action)](args)


def _compute_create(args: argparse.Namespace) -> int:
    from runner.engine.compute_limits import VM_SIZES
    from runner.resources.declaration import DeclaredCompute
    from runner.resources.registry import create_compute
    if args.max_nodes < 1:
        raise ResourceCommandError(f"--max-nodes must be at least 1, not {args.max_nodes}")
    if not 0 <= args.min_nodes <= args.max_nodes:
        raise ResourceCommandError(f"--min-nodes must be between 0 and --max-nodes "
                                   f"({args.max_nodes}), not {args.min_nodes}")
    if args.type == "ComputeInstance" and args.max_nodes != 1:
        raise ResourceCommandError("a ComputeInstance is one machine: --max-nodes must be 1")
    with _open(create=True) as local:
        create_compute(local, DeclaredCompute(args.name, args.type, args.vm_size, args.min_nodes,
                                              args.max_nodes))
    size = (args.vm_size or "").upper()
    limits = (f"{VM_SIZES[size][0]} CPUs and {VM_SIZES[size][1]} MiB per step" if size in VM_SIZES
              else f"{args.vm_size} is not in amlocal's table of sizes: no CPU or memory limit"
              if args.vm_size else "no --vm-size: no CPU or memory limit")
    print(f"compute target {args.name} ({args.type}): at most {args.max_nodes} of its steps at "
          f"once; {limits}")
    return 0


def _compute_list(args: argparse.Namespace) -> int:
    from runner.resources.registry import apply_declarations, list_compute
    with _open(create=False) as local:
        apply_declarations(local, Path.cwd())
        records = list_compute(local)
    if not records:
        print("no compute targets: steps run on 'local' (make one with `amlocal compute create "
              "NAME --max-nodes N`, or declare it in amlocal.yaml)")
        return 0
    print(table(["NAME", "TYPE", "VM SIZE", "MAX NODES", "SOURCE"],
                [[r.name, r.type, r.vm_size or "-", str(r.max_nodes or "-"), r.source]
                 for r in records]))
    return 0


def _datastore_register(args: argparse.Namespace) -> int:
    from runner.resources.declaration import DeclaredDatastore
    from runner.resources.registry import register_datastore
    source = None
    if args.source is not None:
        source = Path(args.source).resolve()
        if not source.is_dir():
            raise ResourceCommandError(f"--from {args.source}: not a folder")
    with _open(create=True) as local:
        result = register_datastore(local, DeclaredDatastore(args.name, args.type, seed_from=source),
                                    "amlocal datastore register")
        folder = local.layout.datastore_dir(args.name)
    copied = f"; copied {result.copied} files from {args.source}" if source else ""
    kept = f" ({result.skipped} already there, kept)" if result.skipped else ""
    print(f"datastore {args.name} ({args.type}) is the folder {folder}{copied}{kept}")
    return 0


def _datastore_list(args: argparse.Namespace) -> int:
    from runner.resources.registry import apply_declarations, list_datastores
    with _open(create=False) as local:
        apply_declarations(local, Path.cwd())
        records = list_datastores(local)
    print(table(["NAME", "TYPE", "DEFAULT", "FOLDER", "SOURCE"],
                [[r.name, r.type, "*" if r.is_default else "", str(r.folder), r.source]
                 for r in records]))
    return 0


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        value = getpass.getpass(f"value of secret {name} (not shown): ")
    else:
        value = sys.stdin.read()
        value = value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value
    if not value:
        raise ResourceCommandError(f"no value for secret {name}: pipe it in, e.g. "
                                   f"`printf %s \"$VALUE\" | amlocal secret set {name}`")
    return value


def _secret_set(args: argparse.Namespace) -> int:
    from store.key_vault import check_secret_name, secrets_path, set_secrets
    check_secret_name(args.name)
    value = _read_value(args.name)
    with _open(create=True) as local:
        set_secrets(local.layout, {args.name: value})
        where = secrets_path(local.layout)
    print(f"secret {args.name} set (kept in {where}, readable by you only)")
    return 0


def _secret_list(args: argparse.Namespace) -> int:
    from store.key_vault import list_secrets
    with _open(create=False) as local:
        records = list_secrets(local.layout)
    if not records:
        print("no secrets: set one with `amlocal secret set NAME` (the value is read from stdin)")
        return 0
    print(table(["NAME", "CONTENT TYPE", "MODIFIED"],
                [[r.name, r.content_type, when(r.modified)] for r in records]))
    return 0


def _secret_rm(args: argparse.Namespace) -> int:
    from store.key_vault import delete_secrets
    with _open(create=False) as local:
        missing = delete_secrets(local.layout, [args.name])
    if missing:
        raise ResourceCommandError(f"no secret named {args.name} (see `amlocal secret list`)")
    print(f"secret {args.name} removed")
    return 0
