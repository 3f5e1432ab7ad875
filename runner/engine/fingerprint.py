"""Step fingerprints: everything that must be unchanged for an earlier step run to be reused,
and the words that say what changed.

Pure functions over plain data. The fields follow the SDK's module fingerprint (name,
script, ports, literal arguments and params, the source snapshot) plus what the service
compares (parameter values actually submitted, compute target, environment) plus what Azure
leaves out: the content of every input. The hash is sha256 of the canonical JSON.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from runner.spec import StepSpec, content_hash


def reuse_fields(step: StepSpec, *, parameters: Mapping[str, Any], snapshot_id: str | None,
                 environment: str, inputs: Mapping[str, str]) -> dict:
    """The fields of `step`'s fingerprint; `inputs` maps each input port to its content id."""
    return {
        "name": step.name,
        "definition": step.definition(),
        "source": snapshot_id,
        "arguments": [t.to_json() for t in step.arguments],
        "params": {k: t.to_json() for k, t in step.params.items()},
        "parameters": {name: parameters.get(name) for name in step.used_parameters()},
        "inputs": {i.port: _input_field(i, inputs[i.port]) for i in step.inputs},
        "outputs": {o.port: {"kind": o.kind, "datastore": o.datastore, "mode": o.mode,
                             "destination": o.destination, "path_on_compute": o.path_on_compute}
                    for o in step.outputs},
        "compute_target": step.compute_target,
        "environment": environment,
    }


def _input_field(inp: Any, content: str) -> dict:
    """One input in a fingerprint: its content, how it is consumed and, for a dataset, how
    it is read (a TabularDataset's reader, columns and rows are not in the files' content)."""
    field = {"content": content, "mode": inp.mode, "path_on_compute": inp.path_on_compute}
    if inp.dataset_view is not None:
        definition = inp.dataset_view["definition"]
        field["dataset"] = {**{k: definition.get(k) for k in
                               ("kind", "read", "transforms", "timestamp", "partition_format")},
                            "direct": bool(inp.dataset_view.get("direct"))}
    return field


def fingerprint(fields: dict) -> str:
    """sha256 of the canonical JSON of `fields`."""
    return content_hash(fields)


def _files_phrase(files: list[str], where: str, detail: bool) -> str:
    if not files:
        return f"{where} changed"
    if detail:
        return f"{where}: {len(files)} file{'s' if len(files) != 1 else ''} changed: {', '.join(files)}"
    if len(files) <= 3:
        return f"{', '.join(files)} changed"
    return f"{len(files)} files changed in {where} ({', '.join(files[:3])}, …)"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "…"


def _literals(tokens: Any) -> str:
    """Argument tokens as the user wrote them: literals, and <input x>, <parameter y>, …"""
    items = tokens.items() if isinstance(tokens, dict) else enumerate(tokens or [])
    shown = []
    for key, token in items:
        kind, value = next(iter(token.items())) if isinstance(token, dict) and token else ("", token)
        text = str(value) if kind == "literal" else f"<{kind} {value}>"
        shown.append(text if isinstance(tokens, list) else f"{key}={text}")
    return "[" + " ".join(shown) + "]"


def describe_changes(old: Mapping, new: Mapping, about_old: Mapping, about_new: Mapping,
                     source_changes: Callable[[str | None, str | None], list[str]],
                     input_changes: Callable[[str, str], list[str] | None],
                     detail: bool = False) -> list[str]:
    """What differs between two fingerprints' fields, in words, most telling first.

    `about_*` hold what the hash leaves out: each input's origin ("step prep" or
    "datastore …") and file count. The callables list changed files of two source snapshots
    and of two input contents (None when that cannot be told).
    """
    said: list[str] = []
    if old.get("source") != new.get("source"):
        said.append(_files_phrase(source_changes(old.get("source"), new.get("source")),
                                  "the source directory", detail))
    for name in sorted(set(old.get("parameters", {})) | set(new.get("parameters", {}))):
        before, after = old.get("parameters", {}).get(name), new.get("parameters", {}).get(name)
        if before != after:
            said.append(f"parameter {name} {_short(before)} → {_short(after)}")
    old_inputs, new_inputs = old.get("inputs", {}), new.get("inputs", {})
    for port in sorted(set(old_inputs) | set(new_inputs)):
        before, after = old_inputs.get(port), new_inputs.get(port)
        if before is None or after is None:
            said.append(f"input {port} {'added' if before is None else 'removed'}")
        elif before["content"] != after["content"]:
            origin = about_new.get("inputs", {}).get(port, {}).get("from", "")
            dataset = about_new.get("inputs", {}).get(port, {}).get("dataset")
            what = f"dataset {dataset}" if dataset else f"input {port}"
            if origin.startswith("step "):
                said.append(f"upstream {origin[5:]} produced new output")
            else:
                files = input_changes(before["content"], after["content"])
                if detail and files:
                    said.append(_files_phrase(files, what, detail))
                else:
                    said.append(f"{what} changed ({len(files)} file{'s' if len(files) != 1 else ''})"
                                if files else f"{what} changed")
        elif before.get("dataset") != after.get("dataset"):
            said.append(f"dataset input {port} is read differently (reader, columns or rows)")
        elif before != after:
            said.append(f"input {port} is consumed differently (mode or path)")
    for key, word in (("arguments", "arguments"), ("params", "step params")):
        if old.get(key) != new.get(key):
            said.append(f"{word} {_literals(old.get(key))} → {_literals(new.get(key))}" if detail
                        else f"{word} changed")
    if old.get("outputs") != new.get("outputs"):
        said.append("outputs changed")
    if old.get("compute_target") != new.get("compute_target"):
        said.append(f"compute target {old.get('compute_target')} → {new.get('compute_target')}")
    if old.get("environment") != new.get("environment"):
        # in words where both runs recorded them, else the identities themselves
        before = about_old.get("environment") or old.get("environment")
        after = about_new.get("environment") or new.get("environment")
        if before == after:
            before, after = old.get("environment"), new.get("environment")
        said.append(f"environment {before} → {after}" if detail else "environment changed")
    if old.get("definition") != new.get("definition"):
        said.append("step definition changed")
    return said
