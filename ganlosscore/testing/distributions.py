"""Real, temporary distributions: ``.dist-info`` directories on a fresh ``sys.path`` entry.

Plugin tests use them instead of mocking ``importlib.metadata``: what the
registry sees is exactly what an installed package would give it. This
module does not import torch.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from ..registry import HOOK_GROUP, LOSS_GROUP, PROTOCOL_GROUP, normalize_dist_name, refresh

__all__ = ["install_distribution", "temporary_distribution"]


def install_distribution(
    root: Path,
    name: str,
    *,
    version: str = "1.0",
    losses: Mapping[str, str] | None = None,
    hooks: Mapping[str, str] | None = None,
    modules: Mapping[str, str] | None = None,
    protocol: int | str | None = None,
    requires: tuple[str, ...] = (),
) -> Path:
    """Write a distribution into ``root`` (not yet on ``sys.path``) and return ``root``.

    ``losses`` and ``hooks`` map entry-point names to ``module:attr`` targets;
    ``modules`` maps relative file paths (``"mypkg/__init__.py"``) to source,
    written next to the metadata so the targets import.
    """
    root.mkdir(parents=True, exist_ok=True)
    for relative, source in (modules or {}).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{normalize_dist_name(name).replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(meta) + "\n", encoding="utf-8")
    sections = []
    for group, entries in ((LOSS_GROUP, losses), (HOOK_GROUP, hooks)):
        if entries:
            body = "\n".join(f"{k} = {v}" for k, v in entries.items())
            sections.append(f"[{group}]\n{body}\n")
    if protocol is not None:
        package = normalize_dist_name(name).replace("-", "_")
        sections.append(f"[{PROTOCOL_GROUP}]\n{protocol} = {package}\n")
    (info / "entry_points.txt").write_text("\n".join(sections), encoding="utf-8")
    return root


@contextmanager
def temporary_distribution(root: Path, name: str, **kwargs: object) -> Iterator[Path]:
    """Install a distribution on ``sys.path`` for the duration of the block.

    On exit it leaves ``sys.path``, the modules imported from it are
    forgotten, and the registry and plugin manager re-read metadata.
    """
    root = Path(root).absolute()
    install_distribution(root, name, **kwargs)  # type: ignore[arg-type]
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    _forget_state()
    try:
        yield root
    finally:
        if str(root) in sys.path:
            sys.path.remove(str(root))
        sys.path_importer_cache.pop(str(root), None)
        for mod_name, module in list(sys.modules.items()):
            if _comes_from(module, root):
                del sys.modules[mod_name]
        importlib.invalidate_caches()
        _forget_state()


def _comes_from(module: object, root: Path) -> bool:
    """Whether a module was imported from ``root`` (namespace packages by their path)."""
    try:
        file = getattr(module, "__file__", None)
        paths = [file] if file else list(getattr(module, "__path__", None) or ())
        return any(isinstance(p, str) and Path(p).is_relative_to(root) for p in paths)
    except Exception:  # a module with exotic attributes is not one of ours
        return False


def _forget_state() -> None:
    from ..hooks import reset_plugin_manager

    refresh()
    reset_plugin_manager()
