"""The README's Python blocks run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ganloss_tensorboard

from ganlosscore import configure_plugins, get_plugin_manager

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_blocks_run():
    assert len(BLOCKS) == 3
    namespace: dict[str, Any] = {}
    try:
        for block in BLOCKS:
            exec(compile(block, str(README), "exec"), namespace)
        assert get_plugin_manager().get_plugin(ganloss_tensorboard.LOGGER_NAME) is not None
    finally:  # the README configures the process-wide manager: turn logging off again
        configure_plugins({})
    assert get_plugin_manager().get_plugin(ganloss_tensorboard.LOGGER_NAME) is None


def test_readme_shows_what_ganloss_check_prints(tmp_path, ganloss_cli):
    text = README.read_text(encoding="utf-8")
    shown = re.search(r"```text\ngan.toml: 1 problem\n  - (.*?)\n```", text).group(1)
    path = tmp_path / "gan.toml"
    path.write_text(
        "[[disc]]\ntype = 'DiscShiftLoss'\ndata_info = { pred = 'disc_pred_real' }\n\n"
        "[plugins.ganloss-tensorboard]\nlog_dir = 'runs'\nintervall = 10\n"
    )
    result = ganloss_cli("check", str(path))
    assert result.out.splitlines() == [f"{path}: 1 problem", f"  - {shown}"]
    assert result.status == 1 and not (tmp_path / "runs").exists()  # nothing is created
