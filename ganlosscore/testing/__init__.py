"""The conformance kit for loss authors, and fixtures for plugin tests.

Plain functions (:func:`check_loss`, :func:`check_refused` for a loss's
hyperparameter checks, :func:`check_examples` for docstring
examples, :func:`check_package` for a package's metadata,
:func:`temporary_distribution`, :func:`run_ranks` for tests on several
``torch.distributed`` ranks, :func:`count_collectives` to count their
collectives, :func:`step_outcomes` and :func:`outcomes_by_step` for their
steps that may fail) and, through the ``pytest11`` entry point, pytest
fixtures (``ganloss_registry``, ``ganloss_hooks``, ``ganloss_distribution``,
``ganloss_cli``; see :mod:`ganlosscore.testing.plugin`).

Names are imported on first use, so loading the pytest plugin in any project
does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .conformance import (
        CHECKS,
        ConformanceError,
        ConformanceReport,
        check_loss,
        check_refused,
    )
    from .distributions import install_distribution, temporary_distribution
    from .examples import check_examples
    from .multiprocess import (
        RankResult,
        count_collectives,
        outcomes_by_step,
        run_ranks,
        step_outcomes,
    )
    from .package import check_package

_LAZY = {
    "CHECKS": "conformance",
    "ConformanceError": "conformance",
    "ConformanceReport": "conformance",
    "check_loss": "conformance",
    "check_refused": "conformance",
    "check_package": "package",
    "check_examples": "examples",
    "install_distribution": "distributions",
    "RankResult": "multiprocess",
    "count_collectives": "multiprocess",
    "run_ranks": "multiprocess",
    "outcomes_by_step": "multiprocess",
    "step_outcomes": "multiprocess",
    "temporary_distribution": "distributions",
}

__all__ = [
    "CHECKS",
    "ConformanceError",
    "ConformanceReport",
    "RankResult",
    "check_examples",
    "check_loss",
    "check_package",
    "check_refused",
    "count_collectives",
    "install_distribution",
    "outcomes_by_step",
    "run_ranks",
    "step_outcomes",
    "temporary_distribution",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
