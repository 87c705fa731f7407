"""Every installed ganlosscore loss in MMEngine's ``MODELS`` registry.

Importing this package registers them, MMEngine's way for third-party
modules (``custom_imports = dict(imports=['ganloss_mmengine'])`` in a
config), so that ``MODELS.build(dict(type='R1GradientPenalty', ...))``
returns ganlosscore's module. Each loss is registered twice:

* under its plain name in MMEngine's root registry, unless the root already
  holds a module of that name (MMEngine's own are never replaced); and
* as ``ganloss.NAME``, in a child registry of scope ``ganloss``: the name
  that always means ganlosscore's loss. MMagic registers its own
  ``GANLoss``, ``L1Loss``, ``R1GradientPenalty``, ... in its ``mmagic``
  registry, and under ``default_scope='mmagic'`` MMEngine finds those first,
  so an MMagic config names ours ``type='ganloss.R1GradientPenalty'``.

Nothing is imported to register a loss: each name is bound to a small
builder that calls :func:`ganlosscore.build_loss` when the loss is built, so
a config's keywords are checked as ganlosscore checks them (unknown keys
with a suggestion, ``data_info`` against the loss's inputs), and a plugin
that fails to import is reported when its loss is built, with the reason,
not when this package is imported. Losses registered later (a local
``register_loss``, a package installed after the import) are added by
calling :func:`register_losses` again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mmengine.registry import MODELS, Registry

from ganlosscore import available_losses, build_loss

if TYPE_CHECKING:
    from ganlosscore import LossModule

from ._version import __version__

__all__ = ["GANLOSS_MODELS", "SCOPE", "Registration", "__version__", "register_losses"]

#: The registry scope of ganlosscore's losses: ``type='ganloss.NAME'``.
SCOPE = "ganloss"

#: The child of MMEngine's root ``MODELS`` that holds every loss as ``ganloss.NAME``.
GANLOSS_MODELS = Registry("model", parent=MODELS, scope=SCOPE)


@dataclass(frozen=True)
class Registration:
    """What :func:`register_losses` did.

    ``plain``: the names now reachable in MMEngine's root registry as they
    are. ``scoped``: every name registered as ``ganloss.NAME``. ``taken``:
    names the root registry already gave to another module, with that
    module; they are reachable only as ``ganloss.NAME``.
    """

    plain: tuple[str, ...]
    scoped: tuple[str, ...]
    taken: dict[str, str] = field(default_factory=dict)


def register_losses() -> Registration:
    """Register every loss :func:`ganlosscore.available_losses` lists (again: idempotent)."""
    names = sorted({record.name for record in available_losses()})
    plain: list[str] = []
    taken: dict[str, str] = {}
    for name in names:
        builder = _builder(name)
        GANLOSS_MODELS.register_module(name=name, module=builder, force=True)
        existing = MODELS.module_dict.get(name)
        if existing is None or getattr(existing, "ganloss_type", None) == name:
            MODELS.register_module(name=name, module=builder, force=True)
            plain.append(name)
        else:
            where = getattr(existing, "__module__", None) or type(existing).__module__
            taken[name] = f"{where}.{getattr(existing, '__qualname__', repr(existing))}"
    return Registration(plain=tuple(plain), scoped=tuple(names), taken=taken)


def _builder(name: str) -> Callable[..., LossModule]:
    """``name``'s builder: MMEngine calls it with the config's keywords (``type`` removed)."""

    def build(**config: Any) -> LossModule:
        return build_loss({"type": name, **config})

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (
        f"Build ganlosscore's {name} from a config's keywords (`ganloss info {name}` lists them)."
    )
    build.ganloss_type = name  # type: ignore[attr-defined]  # marks the builders this package made
    return build


#: What the import registered.
registration = register_losses()
