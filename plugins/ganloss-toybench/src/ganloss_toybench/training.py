"""The toybench training loop: the networks of the dataset, losses from the config.

Points (``ring``, ``grid``) train ReLU MLPs, digits LeakyReLU MLPs or small CNNs
(``networks``; :mod:`ganloss_toybench.models`).

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

**Conditional** (``conditional = true``, ``--conditional``; 2-D mixtures
only): a sample's label is the index of the mode it was drawn from; the
generator (:class:`~ganloss_toybench.models.ConditionalMLPGenerator`) takes
labels drawn uniformly, and the discriminator is a projection discriminator
with class heads (:class:`~ganloss_toybench.models.ProjectionMLPDiscriminator`),
whose score is ``disc_pred_*``. Both steps add, for each head, a key per side
(``_real`` on real samples with their labels, ``_fake`` on generated ones
with the labels they were generated for; in the generator step only
``_fake``, with gradients to the generator):

=========================== ===================================================
``real_labels``,            the labels, ``(N,)`` int64
``fake_labels``
``cls_*``                   class logits ``(N, K)`` (AC-GAN, TAC-GAN)
``twin_cls_*``              the twin classifier's logits ``(N, K)`` (TAC-GAN)
``adc_*``                   ``(N, 2K)`` logits (ADC-GAN)
``mh_*``                    ``(N, K + 1)`` scores, the fake class last (MH-GAN)
``embed_*``, ``proxy_*``    embeddings of the samples and of their labels
                            ``(N, 32)`` (2C, D2D-CE)
``disc_fake_labels``        (discriminator step) the discriminator bound to
                            ``fake_labels``, for R2 on ``fake_imgs``
=========================== ===================================================

``disc`` is the discriminator bound to the step's labels
(:class:`~ganloss_toybench.models.LabelledDiscriminator`: the real labels in
the discriminator step, the generated ones in the generator step), so that a
gradient penalty calls it as ``disc(x)``. In the generator step ``real_imgs``,
``disc_pred_real`` and ``real_labels`` come on demand, as above. A
conditional run is one process.

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
from .models import (
    ConditionalMLPGenerator,
    ConvDiscriminator,
    ConvGenerator,
    ImageMLPDiscriminator,
    ImageMLPGenerator,
    LabelledDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
    ProjectionMLPDiscriminator,
)

__all__ = [
    "CONDITIONAL_DISC_KEYS",
    "CONDITIONAL_GEN_KEYS",
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
#: The conditional heads of ProjectionMLPDiscriminator -> the prefix of their outputs keys.
CONDITIONAL_HEADS = {
    "logits": "cls",
    "twin": "twin_cls",
    "adc": "adc",
    "mh": "mh",
    "embedding": "embed",
    "proxy": "proxy",
}
#: The keys a conditional run adds to the discriminator step's outputs dict.
CONDITIONAL_DISC_KEYS = (
    "real_labels",
    "fake_labels",
    "disc_fake_labels",
    *(f"{prefix}_{side}" for prefix in CONDITIONAL_HEADS.values() for side in ("real", "fake")),
)
#: The keys a conditional run adds to the generator step's (``real_labels`` on demand).
CONDITIONAL_GEN_KEYS = (
    "fake_labels",
    *(f"{prefix}_fake" for prefix in CONDITIONAL_HEADS.values()),
    "real_labels",
)


def output_keys(phase: str, conditional: bool) -> tuple[str, ...]:
    """The keys of the outputs dict of ``phase`` (``"disc"`` or ``"gen"``).

    Example:
        >>> "cls_fake" in output_keys("gen", True), "cls_fake" in output_keys("gen", False)
        (True, False)
    """
    if phase == "disc":
        return DISC_OUTPUT_KEYS + (CONDITIONAL_DISC_KEYS if conditional else ())
    return GEN_OUTPUT_KEYS + (CONDITIONAL_GEN_KEYS if conditional else ())


def unknown_key_message(loss: Any, arg: str, key: str, phase: str, conditional: bool) -> str:
    """Why ``loss`` cannot read ``key``: the keys of the step, and ``--conditional`` if it helps."""
    keys = output_keys(phase, conditional)
    hint = ""
    if not conditional and key in output_keys(phase, True):
        hint = "; it is a key of conditional runs (--conditional, or conditional = true)"
    return (
        f"{type(loss).__name__} reads {arg!r} from outputs key {key!r}, which the "
        f"toybench's {phase} step does not provide{hint}; its keys are {', '.join(keys)}"
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
    disc_config: Any, gen_config: Any, *, where: str = "", conditional: bool = False
) -> tuple[LossAggregator, LossAggregator]:
    """Build the two aggregators and check every ``data_info`` against the outputs keys.

    A loss that reads a key the toybench's outputs dict does not hold is a
    :class:`~ganlosscore.ConfigError` now, naming the keys that exist, rather
    than a :class:`~ganlosscore.DataInfoError` at the first step. ``where``
    (e.g. the config file) prefixes the location in every message.
    """
    from ganlosscore import ConfigError

    aggregators = []
    for name, config in (("disc", disc_config), ("gen", gen_config)):
        keys = output_keys(name, conditional)
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
                        unknown_key_message(loss, arg, key, name, conditional),
                        where=f"{name}[{index}].data_info.{arg}",
                        file=where or None,
                    )
        aggregators.append(aggregator)
    return aggregators[0], aggregators[1]


def build_networks(
    settings: Settings, dataset: GaussianMixture | DigitImages
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The generator and discriminator for ``dataset``: MLPs for points, MLPs or CNNs for digits
    (``settings.networks``)."""
    if settings.conditional and isinstance(dataset, GaussianMixture):
        return ConditionalMLPGenerator(
            settings.latent_dim, settings.gen_hidden, dataset.num_modes
        ), ProjectionMLPDiscriminator(settings.disc_hidden, dataset.num_modes)
    if isinstance(dataset, DigitImages):
        conv = settings.networks == "conv"
        gen = ConvGenerator if conv else ImageMLPGenerator
        disc = ConvDiscriminator if conv else ImageMLPDiscriminator
        return (
            gen(settings.latent_dim, settings.gen_hidden, dataset.channels, settings.latent_codes),
            disc(settings.disc_hidden, dataset.channels),
        )
    return MLPGenerator(
        settings.latent_dim, settings.gen_hidden, settings.latent_codes
    ), MLPDiscriminator(settings.disc_hidden)


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
    conditional = settings.conditional
    if conditional and world_size > 1:
        from ganlosscore import ConfigError

        raise ConfigError(
            "a conditional run is one process (its class heads would leave DDP waiting "
            "for gradients of heads no loss reads); leave out --nproc and torchrun",
            where="toybench.conditional",
        )
    disc_losses, gen_losses = build_losses(disc_config, gen_config, conditional=conditional)
    gen_reads_real = _reads(gen_losses, ("real_imgs", "disc_pred_real", "real_labels"))

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

    label_stream = _stream(settings.seed, rank, 4)

    def labelled_batch() -> tuple[Tensor, Tensor]:
        real, labels = dataset.sample_with_modes(batch, data_stream)
        return real / scale, labels

    def fake_labels() -> Tensor:
        return torch.randint(dataset.num_modes, (batch,), generator=label_stream)

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
            if conditional:
                outputs = _conditional_disc_outputs(
                    gen, disc, labelled_batch(), fake_labels(), noise()
                )
                outputs.update(iteration=iteration, batch_size=batch, loss_scaler=None)
                total, log_disc = disc_losses(outputs)
                _step(opt_disc, total, "disc", iteration, outputs["disc_pred_fake"], world_size)
                continue
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
        if conditional:
            labels = fake_labels()
            fake = gen(noise(), labels)
            outputs = _conditional_gen_outputs(gen, disc, fake, labels)
            outputs.update(iteration=iteration, batch_size=batch, loss_scaler=None)
            if gen_reads_real:
                real, real_labels = labelled_batch()
                outputs["real_imgs"], outputs["real_labels"] = real, real_labels
                outputs["disc_pred_real"] = disc(real, real_labels)["score"]
        else:
            fake = gen_step(noise())
            outputs = _unconditional_gen_outputs(gen_step, disc, fake)
            outputs.update(iteration=iteration, batch_size=batch, loss_scaler=None)
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


def _unconditional_gen_outputs(gen: Any, disc: torch.nn.Module, fake: Tensor) -> dict[str, Any]:
    return {"gen": gen, "disc": disc, "disc_pred_fake_g": disc(fake), "fake_imgs": fake}


def _heads(predictions: Mapping[str, Tensor], side: str) -> dict[str, Tensor]:
    """The class heads of a projection discriminator's output, as ``{prefix}_{side}`` keys."""
    return {f"{prefix}_{side}": predictions[head] for head, prefix in CONDITIONAL_HEADS.items()}


def _conditional_disc_outputs(
    gen: torch.nn.Module,
    disc: torch.nn.Module,
    real_batch: tuple[Tensor, Tensor],
    fake_labels: Tensor,
    noise: Tensor,
) -> dict[str, Any]:
    """The conditional discriminator step's outputs dict (without the step's counters)."""
    real, real_labels = real_batch
    with torch.no_grad():
        fake = gen(noise, fake_labels)
    on_real, on_fake = disc(real, real_labels), disc(fake, fake_labels)
    return {
        "gen": gen,
        "disc": LabelledDiscriminator(disc, real_labels),
        "disc_fake_labels": LabelledDiscriminator(disc, fake_labels),
        "disc_pred_real": on_real["score"],
        "disc_pred_fake": on_fake["score"],
        "real_imgs": real,
        "fake_imgs": fake,
        "real_labels": real_labels,
        "fake_labels": fake_labels,
        **_heads(on_real, "real"),
        **_heads(on_fake, "fake"),
    }


def _conditional_gen_outputs(
    gen: torch.nn.Module, disc: torch.nn.Module, fake: Tensor, labels: Tensor
) -> dict[str, Any]:
    """The conditional generator step's outputs dict (without counters and real samples)."""
    on_fake = disc(fake, labels)
    return {
        "gen": gen,
        "disc": LabelledDiscriminator(disc, labels),
        "disc_pred_fake_g": on_fake["score"],
        "fake_imgs": fake,
        "fake_labels": labels,
        **_heads(on_fake, "fake"),
    }


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
    labels: Tensor | None = None,
) -> Tensor:
    """``num_samples`` generated samples in data space, from a noise stream of their own.

    A conditional generator is given ``labels`` ``(num_samples,)``.
    """
    stream = _stream(seed, 0, 3)
    latent_dim: int = getattr(generator, "latent_dim")  # noqa: B009 - a module attribute
    parts = []
    for start in range(0, num_samples, batch):
        noise = torch.randn(min(batch, num_samples - start), latent_dim, generator=stream)
        if labels is None:
            parts.append(generator(noise) * dataset.scale)
        else:
            parts.append(generator(noise, labels[start : start + len(noise)]) * dataset.scale)
    return torch.cat(parts)
