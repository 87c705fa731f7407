"""The licence texts ``ganloss new-plugin`` writes to a new package's LICENSE file.

Keyed by SPDX identifier (what ``pyproject.toml``'s ``license`` names). ``{{year}}``
and ``{{author}}`` are filled in; the Apache-2.0 text is written unchanged, as the
Apache Software Foundation publishes it (its appendix says how to apply it). The
texts are package data, ``ganlosscore/licenses/<SPDX>.txt``.
"""

from importlib.resources import files

__all__ = ["LICENSES"]

_FOLDER = files("ganlosscore").joinpath("licenses")

LICENSES: dict[str, str] = {
    spdx: _FOLDER.joinpath(f"{spdx}.txt").read_text(encoding="utf-8")
    for spdx in ("MIT", "Apache-2.0", "BSD-3-Clause")
}
