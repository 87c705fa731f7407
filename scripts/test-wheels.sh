#!/usr/bin/env bash
# The released form is the tested form: build an sdist and a wheel of every
# package, check their metadata, install only the wheels into a fresh virtual
# environment (no editable installs, nothing from the source tree), check the
# dependencies, list the losses (a module missing from a wheel shows up as a
# broken loss and fails here), and run the whole test suite against that
# installation.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
DIST=${DIST:-dist}
VENV=${VENV:-.venv-wheels}

rm -rf "$DIST" "$VENV"
for package in . plugins/ganloss-*; do
    "$PYTHON" -m build --quiet --sdist --wheel --outdir "$DIST" "$package" >/dev/null
done
"$PYTHON" -m twine check --strict "$DIST"/*

"$PYTHON" -m venv "$VENV"
pip="$VENV/bin/python -m pip"
$pip install --quiet torch==2.13.0            # the CPU build on disk, before anything asks for torch
wheels=()
for wheel in "$DIST"/*.whl; do
    case "$(basename "$wheel")" in
        ganlosscore-*) wheels+=("$wheel[test,docs]") ;;  # docs: the strict site build, from the wheels
        *) wheels+=("$wheel[test]") ;;
    esac
done
$pip install --quiet --find-links "$DIST" "${wheels[@]}"
$pip check

"$VENV/bin/ganloss" --version
"$VENV/bin/ganloss" list --check

# Run from the repository root with the venv's pytest: only tests/ is put on
# sys.path (pyproject's pythonpath), so every import of ganlosscore and of the
# plugins resolves to the installed wheels; test_packaging.py asserts it.
GANLOSS_EXPECT_INSTALLED=1 "$VENV/bin/python" -P -m pytest --import-mode=importlib \
    -p no:cacheprovider tests plugins/*/tests "$@"
