"""Keywords for the ``ganloss_distribution`` fixture, shared by the core's tests."""

from __future__ import annotations


def hook_plugin(**sources: str) -> dict[str, dict[str, str]]:
    """Hook entry points ``name = "<name>_hooks"``, each module holding its ``source``."""
    return {
        "hooks": {name: f"{name}_hooks" for name in sources},
        "modules": {f"{name}_hooks.py": source for name, source in sources.items()},
    }
