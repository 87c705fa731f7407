"""StyleGAN2's path length regularization of the generator."""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from ganlosscore import LossInputError, LossModule
from ganlosscore.checks import check_bool, check_int, check_number, check_probability

from ._autograd import LossScaler, check_no_apex, graph_break, input_gradient, regather_sharded
from ._buffers import FullPrecisionBuffers

__all__ = [
    "GeneratorPathRegularizer",
    "path_length_noise",
    "path_length_penalty",
    "path_lengths",
]


def path_length_noise(fake_img: Tensor) -> Tensor:
    r"""Random image-space directions :math:`y \sim \mathcal{N}(0, I) / \sqrt{HW}`.

    Drawn in float32 (or the image's dtype, when wider) so that
    reduced-precision images do not reduce the precision of the projection.

    Input: ``fake_img`` ``(N, C, H, W)`` (any ``(N, C, *)``). Output: same shape.
    """
    dtype = torch.promote_types(fake_img.dtype, torch.float32)
    noise = torch.randn(fake_img.shape, device=fake_img.device).to(dtype)
    return noise / math.sqrt(math.prod(fake_img.shape[2:]))


def path_lengths(
    fake_img: Tensor,
    latents: Tensor,
    noise: Tensor,
    *,
    eps: float = 1e-8,
    loss_scaler: LossScaler | None = None,
) -> Tensor:
    r"""Per-sample path lengths :math:`\lVert J_w^\top y \rVert_2`.

    :math:`J_w^\top y = \nabla_w \sum (g(w) \cdot y)`; for latents of shape
    ``(N, L, D)`` (one code per synthesis layer) the squared norm is summed over
    ``D`` and averaged over ``L`` before the square root, as in StyleGAN2 and
    MMGeneration. ``eps`` sits inside the root, :math:`\sqrt{s + \epsilon}`, so
    a zero gradient gives a finite derivative instead of NaN.

    Input: ``fake_img`` ``(N, C, H, W)``, ``latents`` ``(N, L, D)`` or ``(N, D)``,
    ``noise`` like ``fake_img``. Output: ``(N,)``.

    Example:
        >>> w = torch.tensor([[3.0, 4.0]], requires_grad=True)
        >>> img = w.view(1, 1, 1, 2)  # the image is the latent
        >>> path_lengths(img, w, torch.ones(1, 1, 1, 2), eps=0.0).detach()  # ||(1, 1)||
        tensor([1.4142])
    """
    grad = input_gradient((fake_img * noise).sum(), latents, loss_scaler=loss_scaler)
    squares = grad.pow(2).sum(dim=-1)
    if squares.ndim > 1:
        squares = squares.reshape(squares.shape[0], -1).mean(dim=1)
    return torch.sqrt(squares + eps)


class _MeanOverRanks(torch.autograd.Function):
    """All-reduce mean with its gradient: every rank's value feeds every rank's result.

    Forward ``y = sum_s x_s / W`` on each rank; the total loss is the sum of the
    ranks' losses, so ``dL/dx_s = sum_r dL_r/dy / W``, the same all-reduce mean.
    """

    @staticmethod
    def forward(ctx: Any, value: Tensor) -> Tensor:
        # The value and a count of the ranks that computed it, in one collective:
        # a rank that skipped this step (another iteration) sends zeros.
        # float64 whatever the value's dtype, so every rank sends the same bytes.
        buffer = torch.stack(
            [value.detach().reshape(()).double(), value.new_ones((), dtype=torch.float64)]
        )
        dist.all_reduce(buffer)
        _check_ranks_took_part(buffer[1], expected=dist.get_world_size())
        return (buffer[0] / dist.get_world_size()).to(value.dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        total = grad.contiguous().clone()
        dist.all_reduce(total)
        return total / dist.get_world_size()


def _check_ranks_took_part(count: Tensor, expected: int) -> None:
    """Raise on every rank when only some ranks computed the running mean this step.

    Reads one value on the host (a synchronisation on a GPU), on the steps
    the path penalty runs with ``sync_mean_buffer`` only: otherwise the ranks
    would average one rank's batch mean with nothing, or pair their next
    collectives wrongly.
    """
    took_part = int(count.item())
    if took_part != expected:
        from ganlosscore import DistributedMismatchError

        world = dist.get_world_size()
        raise DistributedMismatchError(
            f"{took_part} of {world} ranks computed the path length penalty this step, "
            "so its running mean cannot be averaged over ranks; every rank must be on the "
            "same iteration (outputs['iteration'] drives interval)",
            where="GeneratorPathRegularizer.sync_mean_buffer",
        )


def _mean_over_ranks(value: Tensor) -> Tensor:
    """The mean of ``value`` over all ranks, differentiable (identity without a process group)."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    mean: Tensor = _MeanOverRanks.apply(value)  # type: ignore[no-untyped-call]
    return mean


def path_length_penalty(
    lengths: Tensor, mean_path_length: Tensor, *, decay: float = 0.01, sync: bool = False
) -> tuple[Tensor, Tensor]:
    r"""The penalty :math:`\mathrm{mean}((l - a)^2)` and the updated running mean :math:`a`.

    :math:`a = a_{old} + \mathrm{decay}\,(\mathrm{mean}(l) - a_{old})`, kept in
    the graph as in StyleGAN2. With ``sync`` and an initialised process group,
    ``mean(l)`` is averaged over ranks by a differentiable all-reduce, so that
    every rank holds the same running mean and DDP's averaged gradients equal
    those of one process on the whole batch.

    Both are computed in at least ``float32``: a step of ``decay = 0.01``
    times the gap is below half a ``bfloat16`` spacing of the mean, so in half
    precision the running mean would not move.

    Input: ``lengths`` ``(N,)``, ``mean_path_length`` a scalar. Output: two
    scalars, in the wider of their dtypes and ``float32``.

    Example:
        >>> path_length_penalty(torch.tensor([1.0, 3.0]), torch.tensor(0.0), decay=0.5)
        (tensor(2.), tensor(1.))
    """
    dtype = torch.promote_types(lengths.dtype, mean_path_length.dtype)
    lengths = lengths.to(torch.promote_types(dtype, torch.float32))
    batch_mean = lengths.mean()
    if sync:
        batch_mean = _mean_over_ranks(batch_mean)
    previous = mean_path_length.to(lengths.dtype)
    path_mean = previous + decay * (batch_mean - previous)
    return (lengths - path_mean).pow(2).mean(), path_mean


class GeneratorPathRegularizer(FullPrecisionBuffers, LossModule):
    r"""StyleGAN2's path length regularizer.

    .. math::
        L = \mathbb{E}_{w, y}\big(\lVert J_w^\top y \rVert_2 - a\big)^2,
        \quad y \sim \mathcal{N}(0, I)/\sqrt{HW},\quad
        a \leftarrow a + \mathrm{decay}\,(\mathbb{E}\lVert J_w^\top y \rVert_2 - a)

    From Karras et al., *Analyzing and Improving the Image Quality of StyleGAN*,
    CVPR 2020. Mirrors MMGeneration's ``gen_path_regularizer`` /
    ``GeneratorPathRegularizer`` (defaults ``decay=0.01``, ``pl_batch_shrink=1``,
    ``pl_batch_size=None``, ``sync_mean_buffer=False``, ``loss_weight=1``;
    StyleGAN2 uses weight 2 with ``interval=4``), with these differences:

    * :math:`\sqrt{\cdot + \epsilon}` (``eps``), so a zero gradient gives no NaN;
    * the running mean :math:`a` is the buffer ``mean_path_length`` (in
      ``state_dict``), written only in training mode (``module.train()``), as
      BatchNorm's running statistics are;
    * ``sync_mean_buffer`` averages the batch mean over ranks with a
      differentiable all-reduce (MMGeneration's is not);
    * ``interval`` (lazy regularization) is the common keyword, handled by the core.

    Half precision and DDP: see the package README, *GeneratorPathRegularizer*.

    **Generator calling convention** (MMGeneration's StyleGAN2): the generator
    is called as ``generator(None, num_batches=n, return_latents=True)`` and
    returns a mapping with ``"fake_img"`` ``(n, C, H, W)`` and ``"latent"``, the
    style codes ``(n, L, D)`` (or ``(n, D)``) in the autograd graph from which
    the images were synthesised. ``n`` is ``num_batches // pl_batch_shrink``
    (at least 1), or ``pl_batch_size`` when that is set.

    Args:
        pl_batch_shrink: divide the batch size by this to save memory (1).
        decay: the running mean's update rate (0.01).
        pl_batch_size: a fixed batch size, overriding ``num_batches`` and
            ``pl_batch_shrink`` (None).
        sync_mean_buffer: average the running mean over ranks when
            ``torch.distributed`` is initialised (False).
        eps: added inside the square root (1e-8).
        use_apex_amp: MMGeneration's keyword, accepted so its configs build
            unchanged; only ``False``: apex is not supported, and ``True`` is a
            ``ConfigError`` (use ``loss_scaler`` instead).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name``, ``interval``.

    Shape:
        generator: a callable following the convention above.
        num_batches: an ``int``, the batch size (MMGeneration's ``batch_size`` key).
        loss_scaler: optional ``torch.amp.GradScaler`` (mixed precision, in
            place of apex): the projected output is scaled before the gradient
            and the gradient unscaled after.
        Output: scalar (``float32`` for a half-precision generator).

    Examples:
        >>> class Gen(torch.nn.Module):  # the image is the latent
        ...     def forward(self, z, num_batches, return_latents):
        ...         w = torch.ones(num_batches, 4, requires_grad=True)
        ...         return {"fake_img": w.view(-1, 1, 2, 2), "latent": w}
        >>> reg = GeneratorPathRegularizer(data_info={"generator": "gen", "num_batches": "bs"})
        >>> loss = reg({"gen": Gen(), "bs": 8})
        >>> float(reg.mean_path_length) > 0.0
        True
    """

    default_loss_name = "loss_path_regular"
    full_precision_buffers = ("mean_path_length",)

    mean_path_length: Tensor

    def __init__(
        self,
        pl_batch_shrink: int = 1,
        decay: float = 0.01,
        pl_batch_size: int | None = None,
        sync_mean_buffer: bool = False,
        eps: float = 1e-8,
        use_apex_amp: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        self.pl_batch_shrink = check_int(pl_batch_shrink, where=f"{label}.pl_batch_shrink")
        self.decay = check_probability(decay, where=f"{label}.decay")
        self.pl_batch_size = (
            None
            if pl_batch_size is None
            else check_int(pl_batch_size, where=f"{label}.pl_batch_size")
        )
        self.sync_mean_buffer = check_bool(sync_mean_buffer, where=f"{label}.sync_mean_buffer")
        self.eps = check_number(eps, where=f"{label}.eps", low=0.0)
        check_no_apex(use_apex_amp, where=f"{label}.use_apex_amp")
        self.register_buffer("mean_path_length", torch.tensor(0.0))

    def path_batch_size(self, num_batches: int) -> int:
        """How many samples the regularizer generates for a batch of ``num_batches``."""
        if self.pl_batch_size is not None:
            return self.pl_batch_size
        return max(1, int(num_batches) // self.pl_batch_shrink)

    def on_interval_skip(self, outputs: Mapping[str, Any]) -> None:
        if self.sync_mean_buffer and dist.is_available() and dist.is_initialized():
            # meet the collective of ranks that compute the penalty this step, with zeros
            buffer = torch.zeros(2, dtype=torch.float64, device=self.mean_path_length.device)
            dist.all_reduce(buffer)
            _check_ranks_took_part(buffer[1], expected=0)

    def projection_noise(self, fake_img: Tensor) -> Tensor:
        """The random image-space directions ``y``; override to change them."""
        return path_length_noise(fake_img)

    @graph_break  # autograd.grad(create_graph=True), see _autograd
    def compute(
        self, generator: Any, num_batches: int, loss_scaler: LossScaler | None = None
    ) -> Tensor:
        n = self.path_batch_size(num_batches)
        fake_img, latents = _generate(generator, n, where=self.loss_name())
        lengths = path_lengths(
            fake_img,
            latents,
            self.projection_noise(fake_img),
            eps=self.eps,
            loss_scaler=loss_scaler,
        )
        regather_sharded(generator)  # a generator under fully_shard (see regather_sharded)
        penalty, path_mean = path_length_penalty(
            lengths, self.mean_path_length, decay=self.decay, sync=self.sync_mean_buffer
        )
        if self.training:
            with torch.no_grad():
                self.mean_path_length.copy_(path_mean.detach())
        return penalty

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, decay={self.decay}, pl_batch_shrink={self.pl_batch_shrink}, "
            f"pl_batch_size={self.pl_batch_size}, sync_mean_buffer={self.sync_mean_buffer}"
        )


def _generate(generator: Any, num_batches: int, *, where: str) -> tuple[Tensor, Tensor]:
    """``(fake_img, latent)`` from MMGeneration's StyleGAN2 call, or an error naming the fix."""
    try:
        output = generator(None, num_batches=num_batches, return_latents=True)
    except TypeError as exc:
        if _accepts_the_call(generator):
            raise  # a TypeError inside the generator: its own bug, untouched
        raise LossInputError(
            "the generator must accept MMGeneration's StyleGAN2 call "
            "generator(None, num_batches=n, return_latents=True) and return a mapping with "
            f"'fake_img' and 'latent'; calling {type(generator).__name__} so failed: {exc}. "
            "Wrap your generator in a module that samples the latents and returns both",
            where=where,
        ) from exc
    if not isinstance(output, Mapping) or not {"fake_img", "latent"} <= output.keys():
        got = sorted(map(str, output)) if isinstance(output, Mapping) else type(output).__name__
        raise LossInputError(
            "the generator, called as generator(None, num_batches=n, return_latents=True), "
            "must return a mapping with 'fake_img' and 'latent' (MMGeneration's StyleGAN2 "
            f"convention); it returned {got}",
            where=where,
        )
    fake_img, latents = output["fake_img"], output["latent"]
    if not (isinstance(latents, Tensor) and latents.requires_grad):
        raise LossInputError(
            "the generator's 'latent' must be the style codes the images were synthesised "
            "from, in the autograd graph (requires_grad); it is not, so the path length "
            "cannot be differentiated",
            where=where,
        )
    return fake_img, latents


def _accepts_the_call(generator: Any) -> bool:
    """Whether ``generator(None, num_batches=1, return_latents=True)`` binds to its signature."""
    # a module's __call__ takes anything: its forward says what it accepts
    target = generator.forward if isinstance(generator, torch.nn.Module) else generator
    try:
        inspect.signature(target).bind(None, num_batches=1, return_latents=True)
    except (TypeError, ValueError):
        return False
    return True
