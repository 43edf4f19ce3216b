"""Loading the plugin modules settings name: the one way code outside the layers joins a process.

A plugin module registers itself when imported (step types with `@step_type`; the fault layer
installs its warehouse hooks and portal wrapper). Composition roots (`Platform.from_settings`,
`RunServices.open`, the step registry) call `load_plugins`, so a served flow-run process gets
the same plugins as the command that started it, from the same environment.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable


def load_plugins(modules: Iterable[str]) -> list[str]:
    """Import each named module (once: Python caches imports); returns the names imported."""
    names = list(modules)
    for name in names:
        importlib.import_module(name)
    return names
