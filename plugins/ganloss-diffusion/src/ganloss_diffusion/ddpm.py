"""DDPM training losses, as MMGeneration's ``mmgen/models/losses/ddpm_loss.py``.

Both losses compute a per-sample loss (a ``flatmean`` over each sample), log it
per quarter of the diffusion process (``log_cfgs``), rescale it
(``rescale_mode``) and reduce it over the batch (``reduction``). The default
``data_info``, the logged names and counts, their single collective under
``torch.distributed``, and how rescaling and ``loss_weight`` leave the logged
values alone are described in the package README ("DDPMMSELoss, DDPMVLBLoss"),
with every difference from MMGeneration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, NamedTuple

import torch
from ganloss_pixelwise.functional import mse_loss
from torch import Tensor

from ganlosscore import (
    ConfigError,
    LossInputError,
    LossModule,
    is_distributed,
    reduce_loss,
    sum_over_ranks,
)
from ganlosscore.checks import REDUCTIONS, brief, check_choice, check_int, check_number

from . import functional as F

__all__ = ["DDPMMSELoss", "DDPMVLBLoss"]


def log_prefix(prefix_name: Any, loss_name: str, where: str) -> str:
    """The prefix of extra logged values, free of ``loss`` so they never join the total.

    MMGeneration's ``prefix_name`` starts with ``loss`` (``'loss_mse'``); that
    start is dropped (``'mse'``). Without one, or with MMGeneration's default
    ``'loss'``, the loss name without ``loss_`` is used (``'ddpm_mse'``).
    """
    if prefix_name is not None and not isinstance(prefix_name, str):
        raise ConfigError(f"must be a string, got {brief(prefix_name)}", where=where)
    prefix = (prefix_name or "").removeprefix("loss").lstrip("_")
    if not prefix:
        prefix = loss_name.removeprefix("loss_").replace("loss", "").strip("_") or "diffusion"
    if "loss" in prefix:
        raise ConfigError(
            f"the logged values would be named {prefix!r}_..., which contains 'loss'; names "
            "containing 'loss' are summed into the total by the default aggregation, and "
            "these values are for logging only. Choose a prefix_name without 'loss' after "
            "its start (e.g. 'loss_mse' or 'mse')",
            where=where,
        )
    return prefix


class LogSpec(NamedTuple):
    """One parsed entry of ``log_cfgs``."""

    kind: str
    prefix: str
    reduction: str
    total_timesteps: int | None

    def names(self) -> list[str]:
        if self.kind == "quartile":
            return [f"{self.prefix}_quartile_{i}" for i in range(4)]
        # the VLB's terms, in the order of their group index (t == 0 first)
        return [f"{self.prefix}_DiscGaussianLogLikelihood", f"{self.prefix}_GaussianKLD"]

    @classmethod
    def parse(cls, entry: Any, loss: _DDPMLoss, where: str) -> LogSpec:
        """One ``log_cfgs`` entry of ``loss``, e.g. ``dict(type='quartile', total_timesteps=T)``."""
        if not isinstance(entry, Mapping):
            raise ConfigError(f"each entry is a dict, got {brief(entry)}", where=where)
        cfg = dict(entry)
        kind = check_choice(cfg.pop("type", None), loss.log_kinds, where=f"{where}.type")
        prefix = log_prefix(cfg.pop("prefix_name", None), loss.loss_name(), f"{where}.prefix_name")
        reduction = cfg.pop("reduction", None)  # MMGeneration: the loss's own
        if reduction is None:
            reduction = "sum" if loss.reduction == "sum" else "mean"
        reduction = check_choice(
            reduction, ("mean", "sum", "batchmean"), where=f"{where}.reduction"
        )
        total = cfg.pop("total_timesteps", None)
        if kind == "quartile":  # the number of diffusion steps
            total = check_int(total, where=f"{where}.total_timesteps")
        if cfg:
            raise ConfigError(
                f"unknown key(s) {sorted(cfg)}; the keys are type, prefix_name, reduction and "
                "(for 'quartile') total_timesteps",
                where=where,
            )
        return cls(kind, prefix, "sum" if reduction == "sum" else "mean", total)


def parse_log_cfgs(log_cfgs: Any, loss: _DDPMLoss, where: str) -> tuple[LogSpec, ...]:
    """Every entry of ``log_cfgs`` (a dict or a list of dicts), their names distinct."""
    if log_cfgs is None:
        return ()
    entries = [log_cfgs] if isinstance(log_cfgs, Mapping) else log_cfgs
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise ConfigError(
            "must be a dict or a list of dicts, e.g. dict(type='quartile', "
            f"total_timesteps=1000); got {brief(log_cfgs)}",
            where=where,
        )
    specs: list[LogSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        spec = LogSpec.parse(entry, loss, f"{where}[{index}]")
        clash = seen.intersection(spec.names())
        if clash:
            raise ConfigError(
                f"two entries would both log {sorted(clash)}; give them different prefix_name "
                "values",
                where=f"{where}[{index}].prefix_name",
            )
        seen.update(spec.names())
        specs.append(spec)
    return tuple(specs)


def parse_rescale(mode: Any, cfg: Any, where: str) -> tuple[str | None, float]:
    """``rescale_mode`` and the ``scale`` of ``rescale_cfg`` (ignored without a mode)."""
    if mode is None:
        return None, 1.0  # rescale_cfg is ignored, as in MMGeneration
    mode = check_choice(mode, ("constant", "timestep_weight"), where=f"{where}.rescale_mode")
    if cfg is not None and not isinstance(cfg, Mapping):
        raise ConfigError(
            f"must be a dict such as dict(scale=4.0), got {brief(cfg)}",
            where=f"{where}.rescale_cfg",
        )
    cfg = dict(cfg or {})
    if set(cfg) - {"scale"} or (mode == "constant" and "scale" not in cfg):
        raise ConfigError(
            f"rescale_mode={mode!r} takes rescale_cfg=dict(scale=<number>)"
            f"{'' if mode == 'constant' else ' or none'}; got {brief(cfg)}",
            where=f"{where}.rescale_cfg",
        )
    return mode, check_number(cfg.get("scale", 1.0), where=f"{where}.rescale_cfg.scale")


class _DDPMLoss(LossModule):
    """Rescaling, per-timestep logging and batch reduction shared by the DDPM losses."""

    #: The mapping used when the config gives no ``data_info`` (MMGeneration's).
    default_data_info: ClassVar[dict[str, str]] = {}
    #: The ``type``s of ``log_cfgs`` entries this loss understands.
    log_kinds: ClassVar[tuple[str, ...]] = ("quartile",)

    def __init__(
        self,
        *,
        rescale_mode: str | None = None,
        rescale_cfg: Mapping[str, Any] | None = None,
        sampler: Any = None,
        weight: Tensor | Sequence[float] | None = None,
        log_cfgs: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        reduction: str = "mean",
        data_info: Mapping[str, str] | Literal[False] | None = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(data_info, Mapping):  # MMGeneration reads outputs['timesteps'] implicitly
            data_info = {"timesteps": "timesteps", **data_info}
        super().__init__(data_info=data_info, **kwargs)
        label = type(self).__name__
        self.reduction = check_choice(reduction, REDUCTIONS, where=f"{label}.reduction")
        self.rescale_mode, self.rescale_scale = parse_rescale(rescale_mode, rescale_cfg, label)
        self.sampler = sampler
        self.timestep_weight: Tensor | None = None
        if weight is not None:
            self.timestep_weight = weight if isinstance(weight, Tensor) else torch.tensor(weight)
        if self.rescale_mode == "timestep_weight" and self._timestep_weights() is None:
            raise ConfigError(
                "rescale_mode='timestep_weight' needs the per-timestep weights: pass "
                "weight=<tensor of num_timesteps values> or a sampler with a .weight tensor",
                where=f"{label}.weight",
            )
        self.log_specs = parse_log_cfgs(log_cfgs, self, f"{label}.log_cfgs")
        self.extra_log_vars: dict[str, Tensor] = {}

    def on_interval_skip(self, outputs: Mapping[str, Any]) -> None:
        if self.log_specs and is_distributed():
            # meet the log collective of the ranks that did compute, with nothing to add
            size = sum(2 * len(spec.names()) for spec in self.log_specs)  # [sums, counts]
            sum_over_ranks(torch.zeros(size, device=_device_of(outputs)))

    # -- the shared tail of compute ----------------------------------------------

    def _finish(self, per_sample: Tensor, timesteps: Tensor) -> Tensor:
        """Log, rescale and reduce the per-sample loss ``(N,)``."""
        self.extra_log_vars = collect_logs(self.log_specs, per_sample, timesteps)
        return reduce_loss(self.rescale(per_sample, timesteps), self.reduction)

    def rescale(self, loss: Tensor, timesteps: Tensor) -> Tensor:
        """The per-sample loss times the ``rescale_mode`` factor of each sample's timestep."""
        if self.rescale_mode is None:
            return loss
        if self.rescale_scale != 1.0:
            loss = loss * self.rescale_scale
        if self.rescale_mode == "timestep_weight":
            weights = self._timestep_weights()
            assert weights is not None
            loss = loss * weights.to(device=loss.device, dtype=loss.dtype)[timesteps.long()]
        return loss

    def _timestep_weights(self) -> Tensor | None:
        from_sampler = getattr(self.sampler, "weight", None)
        if isinstance(from_sampler, Tensor):
            return from_sampler
        return self.timestep_weight

    def extra_repr(self) -> str:
        parts = [super().extra_repr(), f"reduction={self.reduction!r}"]
        if self.rescale_mode is not None:
            parts.append(f"rescale_mode={self.rescale_mode!r}, scale={self.rescale_scale}")
        if self.log_specs:
            parts.append(f"logs={[s.prefix + ':' + s.kind for s in self.log_specs]}")
        return ", ".join(parts)


def _device_of(outputs: Mapping[str, Any]) -> torch.device:
    """The device of the first tensor in an outputs dict (the CPU if it holds none)."""
    return next((v.device for v in outputs.values() if isinstance(v, Tensor)), torch.device("cpu"))


@torch.no_grad()
def collect_logs(
    specs: Sequence[LogSpec], per_sample: Tensor, timesteps: Tensor
) -> dict[str, Tensor]:
    """Each spec's per-group mean (or sum) and count of ``per_sample``, over all ranks.

    Under ``torch.distributed`` (initialised, world size > 1) the stacked
    ``[sums, counts]`` of all specs are all-reduced in one collective, so every
    rank logs the global value and count; every rank must call the loss
    together, as a DDP step does.
    """
    if not specs:
        return {}
    # counts in float16 are exact only up to 2048: sum in at least float32
    values = per_sample.detach().to(torch.promote_types(per_sample.dtype, torch.float32))
    buffers: list[Tensor] = []
    for spec in specs:
        if spec.kind == "quartile":
            assert spec.total_timesteps is not None
            groups = F.quartile_index(timesteps, spec.total_timesteps)
        else:
            groups = (timesteps != 0).long()
        buffers += F.grouped_sum_and_count(values, groups, len(spec.names()))
    stacked = torch.cat(buffers)
    if is_distributed():
        stacked = sum_over_ranks(stacked)
    logs: dict[str, Tensor] = {}
    offset = 0
    for spec in specs:
        names = spec.names()
        sums, counts = stacked[offset : offset + 2 * len(names)].chunk(2)
        offset += 2 * len(names)
        reduced = sums if spec.reduction == "sum" else sums / counts.clamp(min=1)
        for i, name in enumerate(names):
            logs[name] = reduced[i]
            logs[f"{name}_count"] = counts[i]
    return logs


def check_timesteps(timesteps: Any, n: int, device: torch.device, where: str) -> Tensor:
    """``timesteps`` as a tensor of shape ``(n,)`` on ``device``: one per sample."""
    if not isinstance(timesteps, Tensor):
        raise LossInputError(
            f"timesteps must be a tensor of shape ({n},), got {type(timesteps).__name__}",
            where=where,
        )
    if timesteps.numel() != n:
        raise LossInputError(
            f"{timesteps.numel()} timesteps for a batch of {n}; give one timestep per sample",
            where=where,
        )
    return timesteps.reshape(n).to(device)


class DDPMMSELoss(_DDPMLoss):
    r"""DDPM's simple loss: the per-sample mean squared error of the predicted noise.

    .. math::
        \ell = \operatorname{reduce}_n\Big(r(t_n)\,
            \frac1D \big\|\hat\epsilon_n - \epsilon_n\big\|^2\Big)

    with :math:`r(t)` the ``rescale_mode`` factor (1 by default) and ``reduce``
    over the batch (``reduction``, default ``'mean'``). ``pred``/``target`` may
    be any pair (noise, ``x_0``, ``v``...). Ho et al., "Denoising Diffusion
    Probabilistic Models" (2020), :math:`L_{simple}`; MMGeneration's
    ``DDPMMSELoss``. The logged values (``log_cfgs``), their behaviour under
    ``torch.distributed`` and every difference from MMGeneration are in the
    README of ganloss-diffusion.

    Args:
        rescale_mode: ``None``, ``'constant'`` or ``'timestep_weight'``.
        rescale_cfg: ``dict(scale=...)``.
        sampler: An object with a ``weight`` tensor (per timestep), for
            ``'timestep_weight'``.
        weight: Per-timestep weights, for ``'timestep_weight'`` without a sampler.
        log_cfgs: ``dict(type='quartile', total_timesteps=T, prefix_name=...,
            reduction=...)`` or a list of such dicts.
        reduction: Over the batch of per-sample losses. Default ``'mean'``.
        data_info: Default (left out) MMGeneration's mapping, ``pred`` from
            ``eps_t_pred``, ``target`` from ``noise``; ``timesteps`` from
            ``timesteps`` is added to any mapping that lacks it. ``False`` for
            a direct call.
        **kwargs: ``loss_weight``, ``loss_name`` (default ``'loss_ddpm_mse'``), ``interval``.

    Shape:
        pred, target: ``(N, *)``, the same shape.
        timesteps: ``(N,)``, one per sample.
        Output: a scalar; ``(N,)`` with ``'none'`` or ``'flatmean'``.

    Examples:
        >>> loss = DDPMMSELoss(log_cfgs=dict(type="quartile", total_timesteps=1000))
        >>> outputs = dict(eps_t_pred=torch.ones(2, 3), noise=torch.zeros(2, 3),
        ...                timesteps=torch.tensor([10, 900]))
        >>> loss(outputs)
        tensor(1.)
        >>> loss.extra_log_vars["ddpm_mse_quartile_3"]
        tensor(1.)
    """

    default_loss_name = "loss_ddpm_mse"
    floating_inputs = frozenset({"pred", "target"})  # timesteps are indices
    default_data_info: ClassVar[dict[str, str]] = {
        "pred": "eps_t_pred",
        "target": "noise",
        "timesteps": "timesteps",
    }

    def compute(self, pred: Tensor, target: Tensor, timesteps: Tensor) -> Tensor:
        per_sample = reduce_loss(mse_loss(pred, target), "flatmean")
        if per_sample.ndim != 1:  # a batch of scalars: (N,) is already per sample
            per_sample = per_sample.reshape(-1)
        steps = check_timesteps(timesteps, per_sample.shape[0], per_sample.device, self.loss_name())
        return self._finish(per_sample, steps)


_VLB_T0_INPUTS = ("x", "mean", "logvar")


class DDPMVLBLoss(_DDPMLoss):
    r"""The DDPM variational lower bound, in bits per dimension, per sample.

    .. math::
        \ell = \operatorname{reduce}_n\big(r(t_n)\,L_{t_n}\big),\quad
        L_t = \begin{cases}
            -\frac1D \log_2 p_\theta(x_0 \mid x_1) & t = 0 \\
            \frac1D KL_2\big(\mathcal N(\tilde\mu_t, \tilde\sigma_t^2)\,\|\,
                \mathcal N(\mu_\theta, \sigma_\theta^2)\big) & t > 0
        \end{cases}

    with :math:`r(t)` as in :class:`DDPMMSELoss`, the posterior
    (``mean_target``, ``logvar_target``), the model (``mean_pred``,
    ``logvar_pred``) and at t = 0 the data ``x`` under the model (``mean``,
    ``logvar``, by default ``mean_pred``, ``logvar_pred``), each term averaged
    over the :math:`D` dimensions of a sample (Ho et al., 2020, Eq. 5). Only the
    variance is trained: the predicted means are detached (MMGeneration's
    ``only_update_var=True``; Improved DDPM's :math:`L_{hybrid}` pairs this with
    :class:`DDPMMSELoss`). Paper: Nichol & Dhariwal, "Improved Denoising
    Diffusion Probabilistic Models" (2021). Mirrors MMGeneration's
    ``DDPMVLBLoss`` (whose t = 0 term is ``DiscretizedGaussianLogLikelihoodLoss``
    with ``loss_weight=-1``, i.e. the negative log-likelihood).

    Args:
        data_info: The mapping of the KL inputs. Default (left out)
            MMGeneration's: each from the key of its own name; ``timesteps``
            is added when absent. ``False`` for a direct call.
        data_info_t_0: The mapping of the t = 0 inputs ``x``, ``mean``,
            ``logvar``. Default MMGeneration's: ``x`` from ``real_imgs``,
            ``mean`` from ``mean_pred``, ``logvar`` from ``logvar_pred``.
            Merged into ``data_info`` (the loss has one set of inputs).
        log_cfgs: As :class:`DDPMMSELoss`, plus ``dict(type='name')``: the mean of
            each term, logged as ``<prefix>_DiscGaussianLogLikelihood`` (the
            negative log-likelihood at t = 0, in bits) and ``<prefix>_GaussianKLD``.
        rescale_mode, rescale_cfg, sampler, weight, reduction: As :class:`DDPMMSELoss`.
        **kwargs: ``loss_weight``, ``loss_name`` (default ``'loss_ddpm_vlb'``), ``interval``.

    Shape:
        mean_pred, mean_target, logvar_pred, logvar_target: ``(N, *)``.
        x: ``(N, *)``, the clean images in ``[-1, 1]``.
        timesteps: ``(N,)``, one per sample.
        mean, logvar: optional; ``(N, *)``, the model at t = 0.
        Output: a scalar; ``(N,)`` with ``'none'`` or ``'flatmean'``.

    Examples:
        >>> loss = DDPMVLBLoss(data_info=False)
        >>> zero, one = torch.zeros(2, 3), torch.ones(2, 3)
        >>> loss(one, zero, zero, zero, zero, torch.tensor([5, 7]))  # 0.5 nats = 0.7213 bits
        tensor(0.7213)
    """

    default_loss_name = "loss_ddpm_vlb"
    floating_inputs = frozenset(  # timesteps are indices
        {"mean_pred", "mean_target", "logvar_pred", "logvar_target", "x"}
    )
    log_kinds: ClassVar[tuple[str, ...]] = ("quartile", "name")
    default_data_info_t_0: ClassVar[dict[str, str]] = {
        "x": "real_imgs",
        "mean": "mean_pred",
        "logvar": "logvar_pred",
    }
    # MMGeneration's: the KL inputs under their own names, then those of t = 0
    default_data_info: ClassVar[dict[str, str]] = {
        **{name: name for name in ("mean_pred", "mean_target", "logvar_pred", "logvar_target")},
        **default_data_info_t_0,
        "timesteps": "timesteps",
    }

    def __init__(
        self,
        *,
        data_info: Mapping[str, str] | Literal[False] | None = None,
        data_info_t_0: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data_info=merge_data_info_t_0(data_info, data_info_t_0), **kwargs)

    def compute(
        self,
        mean_pred: Tensor,
        mean_target: Tensor,
        logvar_pred: Tensor,
        logvar_target: Tensor,
        x: Tensor,
        timesteps: Tensor,
        mean: Tensor | None = None,
        logvar: Tensor | None = None,
    ) -> Tensor:
        n = x.shape[0]
        steps = check_timesteps(timesteps, n, x.device, self.loss_name())
        per_sample = F.ddpm_vlb_per_sample(
            mean_pred.detach(),
            mean_target,
            logvar_pred,
            logvar_target,
            x,
            steps,
            mean=None if mean is None else mean.detach(),
            logvar=logvar,
        )
        return self._finish(per_sample, steps)


def merge_data_info_t_0(data_info: Any, data_info_t_0: Any) -> Any:
    """:class:`DDPMVLBLoss`'s ``data_info`` with the t = 0 inputs of ``data_info_t_0``.

    MMGeneration maps the inputs of the t = 0 term in a second mapping; the
    loss has one set of inputs, so the two are merged (a clash is an error).
    """
    cls = DDPMVLBLoss
    if data_info_t_0 is None:
        if isinstance(data_info, Mapping):
            return {**cls.default_data_info_t_0, **data_info}
        return data_info  # None: the class default, which maps both; False: none
    where = "DDPMVLBLoss.data_info_t_0"
    if not isinstance(data_info, Mapping) and data_info is not None:
        raise ConfigError(
            f"maps inputs from the outputs dict, but data_info={brief(data_info)} asks for "
            "no mapping",
            where=where,
        )
    if not isinstance(data_info_t_0, Mapping):
        raise ConfigError(
            f"must map x, mean and logvar to outputs keys, got {brief(data_info_t_0)}",
            where=where,
        )
    t_0_keys = (*_VLB_T0_INPUTS, "timesteps")
    kl_default = {k: v for k, v in cls.default_data_info.items() if k not in t_0_keys}
    merged = dict(kl_default if data_info is None else data_info)
    for arg, key in data_info_t_0.items():
        if arg not in _VLB_T0_INPUTS:
            raise ConfigError(
                f"maps the inputs of the t = 0 term, {list(_VLB_T0_INPUTS)}; got {arg!r}",
                where=f"{where}.{arg}",
            )
        if merged.get(arg, key) != key:
            raise ConfigError(
                f"data_info maps {arg!r} to {merged[arg]!r} but data_info_t_0 maps it to "
                f"{key!r}; map it in one place",
                where=f"{where}.{arg}",
            )
        merged[arg] = key
    return merged
