"""``ganloss new-plugin``: write a complete package that installs and passes its tests.

The generated package follows the rules the bundled plugins follow: PEP 621
metadata, a single-sourced version, the supported core range, the protocol
declaration, entry points, a licence, a CI workflow, and tests that use the
conformance kit. Two variants: a loss package (one example loss, the
default) and a hooks-only package (``hooks_only=True``: one hook
implementation and its ``ganlosscore.hooks`` entry point, no loss).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import keyword
import re
import shutil
import sys
import uuid
import warnings
from importlib import resources
from pathlib import Path

import importlib_metadata

from ._licenses import LICENSES
from ._version import PROTOCOL_VERSION, __version__
from .errors import ConfigError, brief, did_you_mean

__all__ = [
    "AUTHOR_PLACEHOLDER",
    "LICENSES",
    "PluginNameWarning",
    "core_requirement",
    "plugin_names",
    "write_plugin",
]

# Letters and digits in parts joined by single "-", "_" or ".", starting with a letter:
# every such name is a valid distribution name and makes a valid import package.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*([-_.][A-Za-z0-9]+)*$")
_PREFIX = "ganloss_"

#: What LICENSE and ``pyproject.toml`` name as the author until ``author=`` is given.
AUTHOR_PLACEHOLDER = "YOUR NAME"

#: The torch install line of the generated README and CI workflow: the CPU build.
TORCH_CPU = "pip install torch --index-url https://download.pytorch.org/whl/cpu"


class PluginNameWarning(UserWarning):
    """A name ``ganloss new-plugin`` accepts, but users would not find as easily."""


def core_requirement() -> str:
    """The core range a new plugin supports: this minor series (``>=0.1,<0.2``)."""
    major, minor = (int(x) for x in __version__.split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"ganlosscore>={major}.{minor},<{upper}"


def plugin_names(name: str) -> dict[str, str]:
    """The names a package called ``name`` gets: import package, loss class, loss name.

    ``ganloss-my-losses`` gives the package ``ganloss_my_losses``, the class
    ``MyLossesLoss`` and the loss name ``loss_my_losses``; ``ganloss-2d``
    gives ``ganloss_2d``, ``Ganloss2dLoss`` (a class name cannot start with
    a digit) and ``loss_2d``. ``stem`` is the part after ``ganloss_``, the
    name of a hooks-only package's entry point. Raises :class:`ConfigError`
    for a name that cannot become an importable package.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        if isinstance(name, str) and name[:1].isdigit():
            hint = f" (its import package must not start with a digit), e.g. ganloss-{name}"
        else:
            hint = ", e.g. ganloss-mylosses"
        raise ConfigError(
            f"{brief(name)} is not a valid distribution name; use letters, digits and single "
            f"dashes, starting with a letter{hint}",
            where="new-plugin",
        )
    package = re.sub(r"[-_.]", "_", name.lower())
    if keyword.iskeyword(package) or package in _TAKEN or package in sys.stdlib_module_names:
        raise ConfigError(
            f"{brief(name)} would make a package named {brief(package)}, which would shadow or "
            "clash with an existing module; choose another name, e.g. ganloss-mylosses",
            where="new-plugin",
        )
    stem = package.removeprefix(_PREFIX) or package
    cls = "".join(part.capitalize() for part in stem.split("_")) + "Loss"
    if not cls[0].isalpha():  # ganloss-2d: a class name cannot start with a digit
        cls = "".join(part.capitalize() for part in package.split("_")) + "Loss"
    assert package.isidentifier() and cls.isidentifier(), (package, cls)
    return {"name": name, "package": package, "cls": cls, "loss_name": f"loss_{stem}", "stem": stem}


# Packages a plugin must not be called: the core itself and its dependencies.
_TAKEN = frozenset(
    {"ganlosscore", "torch", "pluggy", "attrs", "importlib_metadata", "pytest", "setuptools"}
)


def write_plugin(
    name: str,
    parent: Path,
    *,
    hooks_only: bool = False,
    license: str = "MIT",
    author: str | None = None,
) -> Path:
    """Write the package ``parent/name`` and return its path.

    ``hooks_only`` writes a package with a hook implementation and its
    ``ganlosscore.hooks`` entry point instead of a loss. ``license`` is an
    SPDX identifier among :data:`LICENSES`; ``author`` goes into LICENSE and
    ``pyproject.toml`` (default :data:`AUTHOR_PLACEHOLDER`, to replace before
    publishing). A name that is an installed distribution is refused: the new
    package's editable install would replace it. A name without the
    ``ganloss-`` prefix gives a :class:`PluginNameWarning`.

    The package is written to a temporary directory first and moved into
    place at the end, so a failure leaves nothing half-written.
    """
    names = plugin_names(name)
    if license not in LICENSES:
        by_case = {spdx.lower(): spdx for spdx in LICENSES}.get(str(license).lower())
        hint = f" Did you mean {by_case!r}?" if by_case else did_you_mean(str(license), LICENSES)
        raise ConfigError(
            f"unknown licence {brief(license)}; choose one of {', '.join(LICENSES)}.{hint}",
            where="new-plugin --license",
        )
    author = AUTHOR_PLACEHOLDER if author is None else author
    if not isinstance(author, str) or not author.strip() or not author.isprintable():
        raise ConfigError(
            f"the author must be a name on one line, got {brief(author)}",
            where="new-plugin --author",
        )
    kind = "hooks" if hooks_only else "losses"
    values = {
        **names,
        "core": core_requirement(),
        "protocol": str(PROTOCOL_VERSION),
        "license": license,
        "author": author.strip(),
        "author_toml": json.dumps(author.strip(), ensure_ascii=False),  # a TOML basic string
        "year": str(datetime.date.today().year),
        "torch_cpu": TORCH_CPU,
        "description": _DESCRIPTIONS[kind],
    }
    package = values["package"]
    _refuse_installed(name, package)
    if not hooks_only:
        _refuse_taken_loss_name(values["cls"], name)
    if not package.startswith(_PREFIX):
        warnings.warn(
            f"{name} does not start with 'ganloss-': the ecosystem's packages are called "
            f"ganloss-<topic> so that users find them; consider ganloss-{name}",
            PluginNameWarning,
            stacklevel=2,
        )
    target = parent / name
    if target.exists():
        raise ConfigError(
            f"{target} already exists; choose another name, another --dir, or remove it",
            where="new-plugin",
        )
    if not parent.is_dir():
        problem = "is not a directory" if parent.exists() else "does not exist"
        raise ConfigError(
            f"the parent {parent} {problem}; create the directory first or pass another --dir",
            where="new-plugin",
        )
    files = {
        "pyproject.toml": _template(
            "pyproject-head.toml", f"pyproject-{kind}.toml", "pyproject-tail.toml"
        ),
        "README.md": _template(f"README-{kind}.md", "publish.md"),
        "LICENSE": LICENSES[license],
        ".gitignore": _template("gitignore"),
        ".github/workflows/test.yml": _template("test.yml"),
        f"src/{package}/__init__.py": _template(f"__init__-{kind}.py"),
        f"src/{package}/_version.py": '__version__ = "0.1.0"\n',
        f"src/{package}/py.typed": "",
        f"src/{package}/{kind}.py": _template(f"{kind}.py"),
        f"tests/test_{kind}.py": _template(f"test_{kind}.py"),
    }
    # Not tempfile.mkdtemp: its directories are private (0700); this one honours the umask.
    staging = parent / f".{name}-{uuid.uuid4().hex[:12]}.tmp"
    try:
        staging.mkdir()
    except OSError as exc:
        raise ConfigError(
            f"cannot write into {parent}: {exc.strerror or exc}", where="new-plugin"
        ) from exc
    try:
        for relative, template in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_fill(template, values), encoding="utf-8")
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(
            f"writing {target} failed: {exc.strerror or exc}", where="new-plugin"
        ) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _refuse_installed(name: str, package: str) -> None:
    """An installed distribution, or an importable package, of the new package's name.

    ``pip install -e`` of the new package would replace the installed one (its
    files, its entry points): ``ganloss new-plugin ganloss-regularizers``
    would quietly take the real regularizers away.
    """
    try:
        dist = importlib_metadata.distribution(name)
    except importlib_metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        version = dist.version or "of unknown version"
        raise ConfigError(
            f"{name} is an installed distribution ({dist.name} {version}); a new package of "
            "that name would replace it when installed. Choose another name, e.g. "
            f"{name}-extra, or uninstall it first (pip uninstall {dist.name})",
            where="new-plugin",
        )
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin not in (None, "namespace"):
        raise ConfigError(
            f"{name} would make the import package {package}, but {spec.origin} is already "
            "importable under that name and one of them would shadow the other; choose "
            "another name",
            where="new-plugin",
        )


def _refuse_taken_loss_name(cls: str, name: str) -> None:
    """The example loss's type must be free, or the new package's tests would meet a conflict."""
    from .registry import available_losses, normalize_dist_name

    for record in available_losses(include_disabled=True):
        if record.name == cls and record.distribution != normalize_dist_name(name):
            raise ConfigError(
                f"the example loss of {name!r} would be called {cls!r}, a loss type "
                f"{record.distribution} already offers; choose another package name",
                where="new-plugin",
            )


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace each ``{{key}}`` in one pass: a value is never read as a template."""
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), template)


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")

#: pyproject.toml's description of each variant.
_DESCRIPTIONS = {
    "losses": "GAN losses for ganlosscore.",
    "hooks": "Hooks for ganlosscore's loss aggregation.",
}


def _template(*names: str) -> str:
    """The templates ``ganlosscore/templates/<name>.tmpl`` (package data), joined in order."""
    folder = resources.files("ganlosscore").joinpath("templates")
    return "".join(folder.joinpath(f"{name}.tmpl").read_text(encoding="utf-8") for name in names)
