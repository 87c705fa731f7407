from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Helper modules live in helpers/ (no conftest there), under names unique to this package.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))


@pytest.fixture(scope="session", autouse=True)
def classifier_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One digit classifier per test session, trained in a folder of its own (not ~/.cache)."""
    folder = tmp_path_factory.mktemp("classifier-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANLOSS_TOYBENCH_CACHE", str(folder))
        yield folder
