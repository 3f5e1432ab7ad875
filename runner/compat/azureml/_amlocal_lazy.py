"""Lazy re-exports: a compat module names where each SDK class lives in amlocal and imports it
on first use, so `from azureml.core import Run` in a step never imports the client side."""
from __future__ import annotations

import dis
import importlib
import os
import sys
from types import FrameType
from typing import Any, Callable

_IMPORT_FROM = dis.opmap["IMPORT_FROM"]


def _from_import(frame: FrameType | None) -> bool:
    """Whether `frame` is executing `from module import name` right now."""
    if frame is None:
        return False
    code = frame.f_code.co_code
    return 0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_FROM


def missing_name(module_name: str, name: str, frame: FrameType | None) -> BaseException:
    """The error for `name`, which `module_name` does not export: amlocal's "not provided yet"
    for a name the real SDK has (an ImportError in a from-import), else a plain AttributeError."""
    from azureml._amlocal_missing import (NotProvidedAttributeError, NotProvidedImportError,
                                          not_provided_message)
    from azureml._amlocal_sdk_names import SDK_NAMES
    if name.startswith("_") or name not in SDK_NAMES.get(module_name, ()):
        return AttributeError(f"module {module_name!r} has no attribute {name!r}")
    message = not_provided_message(module_name, name)
    if _from_import(frame):
        return NotProvidedImportError(message, name=module_name)
    return NotProvidedAttributeError(message)


def lazy_exports(module_name: str, names: dict[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return (__getattr__, __dir__, __all__) for a module that re-exports `names`.

    `names` maps an exported name to "package.module" or "package.module:attribute" (or two
    such, "script target | step target", see `_for_this_process`). A
    submodule of the real SDK that amlocal has too is imported on attribute access, as the
    SDK's packages import theirs eagerly (`azureml.core.runconfig` after `import azureml.core`).
    """
    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            frame = sys._getframe(1)
            if name.islower() and not name.startswith("_"):
                submodule = _our_submodule(module_name, name)
                if submodule is not None:
                    return submodule
            raise missing_name(module_name, name, frame)
        module, _, attr = _for_this_process(target).partition(":")
        return getattr(importlib.import_module(module), attr or name)

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__, sorted(names)


def in_step() -> bool:
    """Whether this process is a step the runner started (it has the step's run and events)."""
    return bool(os.environ.get("AZUREML_RUN_ID") and os.environ.get("AMLOCAL_EVENTS_FILE"))


def _for_this_process(target: str) -> str:
    """A target "script.module:attr | step.module:attr" names the class a script gets and the
    one a step gets (the step's works without the client SDK, in a bare image)."""
    script, _, step = target.partition(" | ")
    return step.strip() if step and in_step() else script.strip()


def _our_submodule(module_name: str, name: str) -> Any:
    """`module_name.name` when amlocal has that submodule, else None."""
    from azureml._amlocal_missing import NotProvidedModuleError
    try:
        return importlib.import_module(f"{module_name}.{name}")
    except NotProvidedModuleError:
        return None
    except ModuleNotFoundError as exc:
        if exc.name == f"{module_name}.{name}":
            return None
        raise
