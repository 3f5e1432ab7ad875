"""Lazy re-exports: a compat module names where each SDK class lives in amlocal and imports it
on first use, so `from azureml.core import Run` in a step never imports the client side."""
import importlib


def lazy_exports(module_name, names):
    """Return (__getattr__, __dir__, __all__) for a module that re-exports `names`.

    `names` maps an exported name to "package.module" or "package.module:attribute".
    """
    def __getattr__(name):
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r} "
                                 "(amlocal does not provide it yet)")
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr or name)

    def __dir__():
        return sorted(names)

    return __getattr__, __dir__, sorted(names)
