"""The docstring examples run and give the values they show."""

from __future__ import annotations

import ganloss_regularizers
import pytest

from ganlosscore.testing import check_examples

MODULES = [
    f"ganloss_regularizers.{name}"
    for name in (
        "_autograd",
        "consistency",
        "gradient_penalty",
        "infogan",
        "interpolate_penalties",
        "latent_consistency",
        "lecam",
        "path_regularizer",
        "r1",
        "shift",
    )
]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    check_examples(module)


def test_every_public_loss_documents_formula_shapes_paper_and_example():
    # torch's layout: the formula, then Args:, Shape: and Examples:
    for name in ganloss_regularizers.__all__:
        obj = getattr(ganloss_regularizers, name)
        if isinstance(obj, type) and hasattr(obj, "default_loss_name"):
            doc = obj.__doc__ or ""
            for part in ("Shape:", "Examples:"):
                assert part in doc, f"{name}'s docstring lacks {part!r}"
            # the reference: MMGeneration's function, or the paper
            assert "MMGeneration" in doc or "et al." in doc, f"{name} cites no source"
