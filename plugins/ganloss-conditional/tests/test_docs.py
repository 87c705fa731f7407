"""The docstring examples and the README's Python blocks run; the docs name every loss."""

from __future__ import annotations

import ast
import re
from importlib.metadata import distribution
from pathlib import Path

import ganloss_conditional
import pytest

from ganlosscore import build_loss
from ganlosscore.testing import check_examples

MODULES = [
    f"ganloss_conditional.{name}" for name in ("functional", "classifier", "contrastive", "hinge")
]
README = Path(__file__).parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
LOSSES = sorted(
    ep.name
    for ep in distribution("ganloss-conditional").entry_points.select(group="ganlosscore.losses")
)
#: The paper each class's docstring cites.
PAPERS = {
    "AuxiliaryClassifierLoss": "Odena, Olah & Shlens 2017",
    "DiscTwinClassifierLoss": "Gong et al. 2019",
    "GenTwinClassifierLoss": "Gong et al. 2019",
    "DiscDiscriminativeClassifierLoss": "Hou et al. 2022",
    "GenDiscriminativeClassifierLoss": "Hou et al. 2022",
    "ContrastiveConditionalLoss": "Kang & Park 2020",
    "Data2DataCrossEntropyLoss": "Kang, Shin & Park 2021",
    "MultiHingeLoss": "Kavalerov, Czaja & Chellappa 2021",
}


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    check_examples(module)


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_documents_formula_paper_args_shapes_and_examples(name):
    doc = getattr(ganloss_conditional, name).__doc__ or ""
    for part in ("``loss = ", "Args:", "Shape:", "Examples:", PAPERS[name]):
        assert part in doc, f"{name}'s docstring lacks {part!r}"


def test_readme_python_blocks_run():
    namespace: dict = {}
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["log_vars"]["loss_ac"] > 0


def readme_configs() -> tuple[list[dict], set[str]]:
    """The literal config dicts of the README's blocks, and the ``type`` of every config dict
    (those whose data_info is a variable are built by the block itself, above)."""
    literal, types = [], set()
    for block in BLOCKS:
        for node in ast.walk(ast.parse(block)):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "type":
                    types.add(ast.literal_eval(value))
                    try:
                        literal.append(ast.literal_eval(node))
                    except ValueError:
                        pass
    return literal, types


def test_readme_configs_build_and_name_every_loss():
    literal, types = readme_configs()
    assert types == set(LOSSES)
    for config in literal:
        assert build_loss(config).loss_name().startswith("loss_")
    text = README.read_text(encoding="utf-8")
    for name in LOSSES:
        assert f"| `{name}` |" in text, f"the README's table lacks {name}"
