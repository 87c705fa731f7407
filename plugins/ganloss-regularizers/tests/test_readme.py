"""The README's config examples build, and its usage example runs."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
import torch
from _regularizer_nets import ConvDisc

from ganlosscore import build_loss

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
CONFIGS = [
    ast.literal_eval(stmt.value)
    for block in BLOCKS
    if "import" not in block
    for stmt in ast.parse(block).body
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Dict)
]


def test_readme_shows_every_loss():
    import importlib_metadata

    dist = importlib_metadata.distribution("ganloss-regularizers")
    shipped = {ep.name for ep in dist.entry_points if ep.group == "ganlosscore.losses"}
    assert {config["type"] for config in CONFIGS} == shipped


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c["type"])
def test_readme_config_builds(config):
    assert build_loss(config).loss_name().startswith("loss_")


def test_readme_usage_example_runs():
    (usage,) = [block for block in BLOCKS if "build_aggregator" in block]
    namespace = {"disc": ConvDisc(), "real": torch.randn(4, 3, 8, 8), "step": 2}
    exec(usage, namespace)
    assert set(namespace["log_vars"]) >= {"loss_disc_shift", "loss_r1_gp"}
    assert all(math.isfinite(v) for v in namespace["log_vars"].values())
