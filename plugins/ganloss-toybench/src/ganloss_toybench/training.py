"""The toybench training loop: the networks of the dataset, losses from the config.

Points (``ring``, ``grid``) train ReLU MLPs, digits small CNNs
(:mod:`ganloss_toybench.models`).

One iteration is ``disc_steps`` discriminator steps and one generator step,
each summing its losses through a ganlosscore aggregator built from the
config's ``disc`` and ``gen`` lists. The losses read their inputs from an
outputs dict with MMGeneration's ``StaticUnconditionalGAN`` keys, so a config
written for MMGeneration carries over:

=========================== ===================================================
disc step                   ``gen``, ``disc``, ``disc_pred_real``,
                            ``disc_pred_fake``, ``real_imgs``, ``fake_imgs``
                            (detached), ``iteration``, ``batch_size``,
                            ``loss_scaler`` (``None``)
gen step                    ``gen``, ``disc``, ``disc_pred_fake_g``,
                            ``fake_imgs``, ``iteration``, ``batch_size``,
                            ``loss_scaler``; and, computed only when a loss
                            maps them (relativistic losses), ``real_imgs`` and
                            ``disc_pred_real``
=========================== ===================================================

``iteration`` is the generator step, from 0; ``batch_size`` the samples per
process. Samples live in the networks' space (data divided by the dataset's
``scale``): points ``(N, 2)``, images ``(N, C, 8, 8)`` in [-1, 1]. With
``ema > 0`` the samples that are measured come from an exponential moving
average of the generator's weights (``torch.optim.swa_utils.AveragedModel``),
updated after every generator step.

Under ``torch.distributed`` (``world_size > 1``) both networks are wrapped in
``DistributedDataParallel``; each process draws its own real and latent
samples (its own random streams) and ``batch_size / world_size`` of each per
step; the aggregators average the logged values over processes. In the
generator step the discriminator is called unwrapped, with its parameters
frozen: only the generator's gradients are needed there, and DDP would
otherwise wait for discriminator gradients that never come. For the same
reason each step adds ``0 * output.sum()`` of its network to the total, so
that every parameter gets a gradient whatever the loss list (R1 alone never
reaches the discriminator's last bias). Gradient
penalties (R1, WGAN-GP) differentiate through the DDP-wrapped discriminator
with ``create_graph=True``, which DDP supports: the penalty's parameter
gradients arrive in the same backward pass as the adversarial loss's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ganlosscore import GanLossError, LossAggregator, build_aggregator

from .config import Settings
from .data import DigitImages, GaussianMixture, load_dataset
from .models import ConvDiscriminator, ConvGenerator, MLPDiscriminator, MLPGenerator

__all__ = [
    "DISC_OUTPUT_KEYS",
    "GEN_OUTPUT_KEYS",
    "TrainResult",
    "build_losses",
    "build_networks",
    "generate",
    "train",
]

#: The keys of the outputs dict in the discriminator step.
DISC_OUTPUT_KEYS = (
    "gen",
    "disc",
    "disc_pred_real",
    "disc_pred_fake",
    "real_imgs",
    "fake_imgs",
    "iteration",
    "batch_size",
    "loss_scaler",
)
#: The keys of the outputs dict in the generator step (the last two on demand).
GEN_OUTPUT_KEYS = (
    "gen",
    "disc",
    "disc_pred_fake_g",
    "fake_imgs",
    "iteration",
    "batch_size",
    "loss_scaler",
    "real_imgs",
    "disc_pred_real",
)


@dataclass
class TrainResult:
    """What a training run leaves: the generator (its average with ``ema``), the logged values."""

    generator: torch.nn.Module
    dataset: GaussianMixture | DigitImages
    train_seconds: float
    #: phase ("disc", "gen") -> log_vars key -> [(iteration, value), ...]
    history: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)
    #: the log_vars of the last step of each phase
    final: dict[str, dict[str, float]] = field(default_factory=dict)
    #: phase ("disc", "gen") -> ``LossAggregator.provenance().as_dict()``: the
    #: distributions (and versions) of its losses and active hook plugins
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_losses(
    disc_config: Any, gen_config: Any, *, where: str = ""
) -> tuple[LossAggregator, LossAggregator]:
    """Build the two aggregators and check every ``data_info`` against the outputs keys.

    A loss that reads a key the toybench's outputs dict does not hold is a
    :class:`~ganlosscore.ConfigError` now, naming the keys that exist, rather
    than a :class:`~ganlosscore.DataInfoError` at the first step. ``where``
    (e.g. the config file) prefixes the location in every message.
    """
    from ganlosscore import ConfigError

    aggregators = []
    for name, config, keys in (
        ("disc", disc_config, DISC_OUTPUT_KEYS),
        ("gen", gen_config, GEN_OUTPUT_KEYS),
    ):
        try:
            aggregator = build_aggregator(config, name=name)
        except GanLossError as exc:
            if where:
                exc.in_file(where)  # the same error, its message now led by the file
            raise
        for index, loss in enumerate(_losses_of(aggregator)):
            for arg, key in (loss.data_info or {}).items():
                if key not in keys:
                    raise ConfigError(
                        f"{type(loss).__name__} reads {arg!r} from outputs key {key!r}, which "
                        f"the toybench's {name} step does not provide; its keys are "
                        f"{', '.join(keys)}",
                        where=f"{name}[{index}].data_info.{arg}",
                        file=where or None,
                    )
        aggregators.append(aggregator)
    return aggregators[0], aggregators[1]


def build_networks(
    settings: Settings, dataset: GaussianMixture | DigitImages
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The generator and discriminator for ``dataset``: MLPs for points, CNNs for digits."""
    if isinstance(dataset, DigitImages):
        return (
            ConvGenerator(settings.latent_dim, settings.gen_hidden, dataset.channels),
            ConvDiscriminator(settings.disc_hidden, dataset.channels),
        )
    return MLPGenerator(settings.latent_dim, settings.gen_hidden), MLPDiscriminator(
        settings.disc_hidden
    )


def _losses_of(aggregator: LossAggregator) -> list[Any]:
    return list(aggregator.losses)


def _reads(aggregator: LossAggregator, keys: Sequence[str]) -> bool:
    return any(
        key in (loss.data_info or {}).values() for loss in _losses_of(aggregator) for key in keys
    )


def _stream(seed: int, rank: int, purpose: int) -> torch.Generator:
    # Independent, reproducible random streams per (seed, process, purpose).
    return torch.Generator().manual_seed(((seed * 1009 + rank) * 8 + purpose) % (2**63))


def lr_factor(iteration: int, steps: int, decay_start: float) -> float:
    """1 until ``decay_start * steps``, then linearly down to 0 at the last step.

    Example:
        >>> [lr_factor(i, 10, 0.5) for i in (0, 5, 7, 10)]
        [1.0, 1.0, 0.6, 0.0]
    """
    start = int(decay_start * steps)
    if iteration < start:
        return 1.0
    return max(0.0, 1.0 - (iteration - start) / max(steps - start, 1))


def check_batch_split(batch_size: int, world_size: int) -> None:
    """Refuse a ``batch_size`` that the processes cannot share equally."""
    from ganlosscore import ConfigError

    if batch_size % world_size:
        raise ConfigError(
            f"batch_size {batch_size} must be divisible by the number of "
            f"processes ({world_size}); each draws batch_size / processes samples",
            where="toybench.batch_size",
        )


def train(
    settings: Settings,
    disc_config: Any,
    gen_config: Any,
    *,
    rank: int = 0,
    world_size: int = 1,
    on_step: Callable[[int, Mapping[str, float], Mapping[str, float]], None] | None = None,
) -> TrainResult:
    """Train the toy GAN; call ``on_step(iterations_done, disc_log_vars, gen_log_vars)``.

    Deterministic for a given ``settings.seed`` (and number of processes and
    threads): the networks are initialised from ``torch.manual_seed(seed)``,
    every sample comes from its own seeded ``torch.Generator``. Under
    ``torch.distributed`` this must run in every process, which must already
    have joined the process group.
    """
    check_batch_split(settings.batch_size, world_size)
    batch = settings.batch_size // world_size
    dataset = load_dataset(settings.dataset)
    torch.manual_seed(settings.seed)
    gen, disc = build_networks(settings, dataset)
    average = None
    if settings.ema > 0:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        averaging = get_ema_multi_avg_fn(settings.ema)  # type: ignore[no-untyped-call]
        average = AveragedModel(gen, multi_avg_fn=averaging)
    disc_losses, gen_losses = build_losses(disc_config, gen_config)
    gen_reads_real = _reads(gen_losses, ("real_imgs", "disc_pred_real"))

    gen_step: torch.nn.Module = gen
    disc_step: torch.nn.Module = disc
    if world_size > 1:
        from torch.nn.parallel import DistributedDataParallel

        gen_step = DistributedDataParallel(gen)
        disc_step = DistributedDataParallel(disc)
    opt_gen = torch.optim.Adam(gen.parameters(), lr=settings.lr_gen, betas=settings.betas)
    opt_disc = torch.optim.Adam(disc.parameters(), lr=settings.lr_disc, betas=settings.betas)
    data_stream = _stream(settings.seed, rank, 1)
    noise_stream = _stream(settings.seed, rank, 2)
    scale = dataset.scale

    def real_batch() -> Tensor:
        return dataset.sample(batch, data_stream) / scale

    def noise() -> Tensor:
        return torch.randn(batch, settings.latent_dim, generator=noise_stream)

    result = TrainResult(
        gen if average is None else average.module,
        dataset,
        0.0,
        history={"disc": {}, "gen": {}},
        provenance={
            "disc": disc_losses.provenance().as_dict(),
            "gen": gen_losses.provenance().as_dict(),
        },
    )
    start = time.perf_counter()
    log_disc: Mapping[str, float] = {}
    log_gen: Mapping[str, float] = {}
    for iteration in range(settings.steps):
        factor = lr_factor(iteration, settings.steps, settings.decay_start)
        for opt, lr in ((opt_gen, settings.lr_gen), (opt_disc, settings.lr_disc)):
            for group in opt.param_groups:
                group["lr"] = lr * factor

        for _ in range(settings.disc_steps):
            real = real_batch()
            with torch.no_grad():
                fake = gen(noise())
            outputs = {
                "gen": gen_step,
                "disc": disc_step,
                "disc_pred_real": disc_step(real),
                "disc_pred_fake": disc_step(fake),
                "real_imgs": real,
                "fake_imgs": fake,
                "iteration": iteration,
                "batch_size": batch,
                "loss_scaler": None,
            }
            total, log_disc = disc_losses(outputs)
            _step(opt_disc, total, "disc", iteration, outputs["disc_pred_fake"], world_size)

        disc.requires_grad_(False)
        fake = gen_step(noise())
        outputs = {
            "gen": gen_step,
            "disc": disc,
            "disc_pred_fake_g": disc(fake),
            "fake_imgs": fake,
            "iteration": iteration,
            "batch_size": batch,
            "loss_scaler": None,
        }
        if gen_reads_real:
            real = real_batch()
            outputs["real_imgs"] = real
            outputs["disc_pred_real"] = disc(real)
        total, log_gen = gen_losses(outputs)
        _step(opt_gen, total, "gen", iteration, fake, world_size)
        disc.requires_grad_(True)
        if average is not None:
            average.update_parameters(gen)

        for phase, log_vars in (("disc", log_disc), ("gen", log_gen)):
            history = result.history[phase]
            for key, value in log_vars.items():
                history.setdefault(key, []).append((iteration, value))
        if on_step is not None:
            on_step(iteration + 1, log_disc, log_gen)

    result.train_seconds = time.perf_counter() - start
    result.final = {"disc": dict(log_disc), "gen": dict(log_gen)}
    return result


def _step(
    optimizer: torch.optim.Optimizer,
    total: Tensor,
    phase: str,
    iteration: int,
    anchor: Tensor,
    world_size: int,
) -> None:
    if total.grad_fn is None:  # a constant, or the zero leaf of a step whose losses all skipped
        raise GanLossError(
            f"the {phase} losses gave nothing to back-propagate at iteration {iteration} "
            "(every loss was skipped, or none depends on the networks); the list needs at "
            "least one loss computed at every step, such as an adversarial loss",
            where=phase,
        )
    if world_size > 1:
        # DDP needs a gradient for every parameter in every backward pass; a loss
        # list that leaves some out (R1 alone never reaches D's last bias) would
        # stall it. ``anchor`` (the network's output) depends on every parameter.
        total = total + 0.0 * anchor.sum()
    optimizer.zero_grad(set_to_none=True)
    total.backward()  # type: ignore[no-untyped-call]
    optimizer.step()


@torch.no_grad()
def generate(
    generator: torch.nn.Module,
    dataset: GaussianMixture | DigitImages,
    num_samples: int,
    seed: int,
    batch: int = 4096,
) -> Tensor:
    """``num_samples`` generated samples in data space, from a noise stream of their own."""
    stream = _stream(seed, 0, 3)
    latent_dim: int = getattr(generator, "latent_dim")  # noqa: B009 - a module attribute
    parts = []
    for start in range(0, num_samples, batch):
        noise = torch.randn(min(batch, num_samples - start), latent_dim, generator=stream)
        parts.append(generator(noise) * dataset.scale)
    return torch.cat(parts)
