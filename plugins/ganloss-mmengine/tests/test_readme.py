"""The README's Python blocks run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_blocks_run():
    assert len(BLOCKS) == 4
    namespace: dict[str, Any] = {}
    for block in BLOCKS:
        exec(compile(block, str(README), "exec"), namespace)
    # the config block's losses build as MMEngine builds them
    models = namespace["MODELS"]
    model = namespace["model"]
    assert type(models.build(model["gan_loss"])).__name__ == "GANLoss"
    assert models.build(model["disc_auxiliary_loss"]).loss_weight == 80.0
