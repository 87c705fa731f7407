"""The README's config examples build."""

import ast
import re
from pathlib import Path

import pytest

from ganlosscore import build_loss

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
CONFIGS = []
for block in BLOCKS:
    for stmt in ast.parse(block).body:
        if isinstance(stmt, ast.Expr):
            value = eval(compile(ast.Expression(stmt.value), "README.md", "eval"), {"dict": dict})
            CONFIGS.extend(value if isinstance(value, list) else [value])


def test_readme_shows_every_loss():
    types = {config["type"] for config in CONFIGS}
    assert types == {"DDPMMSELoss", "DDPMVLBLoss", "EDMLoss", "VPLoss", "VELoss"}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c["type"])
def test_readme_config_builds(config):
    loss = build_loss({**config, "type": f"ganloss-diffusion:{config['type']}"})
    assert loss.loss_name().startswith("loss_")
