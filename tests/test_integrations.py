"""Lightning and Accelerate, as docs/lightning.md and docs/accelerate.md use them.

The pages themselves run in tests/test_docs.py; these tests check what the
pages claim and do not show: which iterations R1 runs on under Lightning's
step count, that a NaN under ``nonfinite="defer"`` stops the run at the next
logged step, and what ``accelerator.prepare`` does to an aggregator.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from test_docs import code_blocks

from ganlosscore import NonFiniteLossError, build_aggregator, get_plugin_manager, hookimpl

ROOT = Path(__file__).resolve().parents[1]


def page_namespace(page: str, blocks: int) -> dict[str, Any]:
    """The namespace of a docs page after its first ``blocks`` Python blocks ran."""
    namespace: dict[str, Any] = {"__name__": f"docs_{Path(page).stem}"}
    sources = [
        src for lang, _, src, skip in code_blocks((ROOT / page).read_text()) if lang == "python"
    ]
    for source in sources[:blocks]:
        exec(compile(source, page, "exec"), namespace)
    return namespace


class Recorder:
    """A hook plugin that notes each aggregation's phase, step and losses."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, tuple[str, ...]]] = []

    @hookimpl
    def ganloss_after_aggregate(self, result: Any, outputs: Any, aggregator: Any) -> None:
        self.seen.append((aggregator.name, result.step, tuple(result.losses)))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    pm = get_plugin_manager()
    plugin = Recorder()
    pm.register(plugin)
    try:
        yield plugin
    finally:
        pm.unregister(plugin)


class NaNAt(torch.nn.Module):
    """Wraps a network; its output is NaN at the given call (counting from 0)."""

    def __init__(self, net: torch.nn.Module, call: int) -> None:
        super().__init__()
        self.net, self.call, self.calls = net, call, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        self.calls += 1
        return out * float("nan") if self.calls - 1 == self.call else out


# -- Lightning -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lightning_page() -> dict[str, Any]:
    pytest.importorskip("lightning")
    return page_namespace("docs/lightning.md", blocks=1)  # the GAN LightningModule


def fit(page: dict[str, Any], gan: Any, tmp_path: Path, batches: int) -> Any:
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger

    L.seed_everything(0, verbose=False)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.randn(256, 2)), batch_size=32
    )
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=2 * batches,  # two optimizer steps a batch
        log_every_n_steps=4,
        logger=CSVLogger(tmp_path, name="gan"),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(gan, loader)
    return trainer


def test_lightning_r1_runs_every_fourth_batch(
    lightning_page: dict[str, Any], recorder: Recorder, tmp_path: Path
) -> None:
    """global_step advances by 2 a batch; the page's global_step // 2 is the batch count."""
    trainer = fit(lightning_page, lightning_page["GAN"](), tmp_path, batches=10)
    assert trainer.global_step == 20
    disc = [
        (step, "loss_r1_gp" in losses) for name, step, losses in recorder.seen if name == "disc"
    ]
    assert disc == [(step, step % 4 == 0) for step in range(10)]
    gen = [step for name, step, _ in recorder.seen if name == "gen"]
    assert gen == list(range(10))


def test_lightning_nan_under_defer_stops_at_the_next_logged_step(
    lightning_page: dict[str, Any], recorder: Recorder, tmp_path: Path
) -> None:
    gan = lightning_page["GAN"]()
    # the discriminator is called 2 times in a batch's D phase (3 with R1) and once in G:
    # batch 0 (R1): 4 calls, batches 1-4: 3 each (4 has R1: 4), batch 5's first call is 17
    gan.discriminator = NaNAt(gan.discriminator, call=17)
    with pytest.raises(NonFiniteLossError) as raised:
        fit(lightning_page, gan, tmp_path, batches=10)
    message = str(raised.value)
    assert "disc" in message and "loss_disc_adv in 3 steps" in message  # batches 5, 6, 7
    assert max(step for _, step, _ in recorder.seen) == 7  # stopped at the read of batch 7


# -- Accelerate ------------------------------------------------------------------------------

DISC = [
    {
        "type": "DiscAdversarialLoss",
        "gan_type": "ns",
        "data_info": {"pred_real": "real", "pred_fake": "fake"},
    },
    {
        "type": "R1GradientPenalty",
        "interval": 2,
        "data_info": {"discriminator": "disc", "real_data": "x"},
    },
]


@pytest.fixture(scope="module")
def accelerator() -> Any:
    accelerate = pytest.importorskip("accelerate")
    # AcceleratorState is one per process: the same arguments as docs/accelerate.md's
    return accelerate.Accelerator(cpu=True)


def test_accelerate_prepare_returns_an_aggregator_without_parameters_as_is(
    accelerator: Any,
) -> None:
    losses = build_aggregator(DISC, nonfinite="defer")
    disc = torch.nn.Linear(2, 1)
    prepared_disc, prepared = accelerator.prepare(disc, losses)
    assert prepared is losses  # no parameter to train: nothing to wrap
    x = torch.randn(4, 2, device=accelerator.device)
    result = prepared(
        {
            "real": prepared_disc(x),
            "fake": prepared_disc(-x),
            "disc": prepared_disc,
            "x": x,
            "iteration": 0,
        }
    )
    accelerator.backward(result.total)
    assert set(result.log_vars) == {"loss_disc_adv", "loss_r1_gp", "loss"}
    assert prepared_disc.weight.grad is not None


def test_accelerate_nan_under_defer_raises_when_read(accelerator: Any) -> None:
    torch.manual_seed(0)
    # calls: iteration 0 real, fake, R1 (0-2); 1 real, fake (3-4); 2 real (5): NaN there,
    # and the optimizer's step makes every later value NaN too
    disc = NaNAt(torch.nn.Linear(2, 1), call=5)
    opt = torch.optim.SGD(disc.parameters(), lr=0.1)
    losses = build_aggregator(DISC, nonfinite="defer")
    disc, opt, losses = accelerator.prepare(disc, opt, losses)
    for iteration in range(4):
        x = torch.randn(4, 2)
        outputs = {"real": disc(x), "fake": disc(-x), "disc": disc, "x": x, "iteration": iteration}
        result = losses(outputs)
        opt.zero_grad()
        accelerator.backward(result.total)
        opt.step()
        if iteration == 0:
            assert result.log_vars["loss"] > 0  # a read before the NaN passes
    assert torch.isnan(disc.net.weight).all()  # the steps were taken: nothing synchronised
    with pytest.raises(NonFiniteLossError, match="loss_disc_adv in 2 steps"):
        result.log_vars  # noqa: B018  (reading is the check)


@pytest.mark.slow
def test_accelerate_bf16_autocast_keeps_the_result_float32(tmp_path: Path) -> None:
    """prepare() wraps forward in autocast under mixed precision; the result is unchanged.

    In a fresh process: AcceleratorState is one per process and this one is on fp32.
    """
    pytest.importorskip("accelerate")
    script = textwrap.dedent(
        """
        import torch
        from accelerate import Accelerator
        from ganlosscore import build_aggregator

        accelerator = Accelerator(cpu=True, mixed_precision="bf16")
        losses = build_aggregator(DISC, nonfinite="defer")
        disc, prepared = accelerator.prepare(torch.nn.Linear(2, 1), losses)
        assert prepared is losses
        x = torch.randn(4, 2)
        assert disc(x).dtype == torch.float32  # prepared models return float32 outputs
        result = prepared({"real": disc(x), "fake": disc(-x), "disc": disc, "x": x, "iteration": 0})
        assert type(result).__name__ == "LossResult"
        assert {t.dtype for t in result.log_tensors.values()} == {torch.float32}
        assert set(result.log_vars) == {"loss_disc_adv", "loss_r1_gp", "loss"}
        print("ok")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", f"DISC = {DISC!r}\n{script}"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stdout + run.stderr
