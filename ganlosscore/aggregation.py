"""Aggregation: what a model calls once per phase to get its total loss.

:class:`LossAggregator` runs each step through the hooks of
:mod:`ganlosscore.hookspecs` (compute, merge, parse, reduce, after), so any of
them can be wrapped or replaced by a plugin. It is an ``nn.Module`` holding
its losses, so ``.to()``, ``state_dict()`` and DistributedDataParallel see
their parameters and buffers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, cast

import attrs
import pluggy
import torch
from torch.nn.modules import module as _nn_module

from . import defaults
from .errors import ConfigError, GanLossError, NonFiniteLossError
from .hooks import bypassable_hooks, get_plugin_manager
from .protocol import LossModule

__all__ = ["NONFINITE_POLICIES", "LossAggregator", "LossResult"]

NonFinitePolicy = Literal["raise", "warn", "ignore"]
NONFINITE_POLICIES: tuple[str, ...] = ("raise", "warn", "ignore")


@attrs.frozen
class LossResult:
    """The outcome of one aggregation.

    ``total`` is the tensor to call ``backward()`` on (when every loss was
    skipped this step, a zero on the device of the losses' inputs that
    requires grad where grad is enabled, so ``total.backward()`` is a harmless
    no-op; see :attr:`skipped`); ``losses`` maps each ``loss_name()`` to
    its (merged, weighted) value; ``log_vars`` maps names to Python floats,
    averaged over ranks, including ``loss`` (the total).

    It unpacks as MMGeneration's pair: ``total, log_vars = aggregator(outputs)``.
    """

    total: torch.Tensor
    losses: dict[str, torch.Tensor]
    log_vars: dict[str, float]

    def __iter__(self) -> Iterator[Any]:
        yield self.total
        yield self.log_vars

    @property
    def skipped(self) -> bool:
        """Whether every loss was skipped this step (lazy losses off their interval).

        Nothing reached ``total``, so no parameter gets a gradient: skip the
        optimizer step. Under AMP this matters, as ``GradScaler.step`` and
        ``GradScaler.update`` raise when no gradient was unscaled::

            result = aggregator(outputs)
            scaler.scale(result.total).backward()
            if not result.skipped:
                scaler.step(optimizer)
                scaler.update()
        """
        return not self.losses


def _module_calls_are_plain() -> bool:
    """Whether ``module(x)`` is ``module.forward(x)`` for a module without hooks of its own.

    True unless a global module hook is registered or TorchScript is tracing,
    the two process-wide conditions under which ``nn.Module.__call__`` does
    more than call ``forward``. Reads torch's private hook registries; if a
    future torch renames them, the answer is False and every loss is called
    through ``__call__``.
    """
    try:
        return not (
            _nn_module._global_forward_pre_hooks
            or _nn_module._global_forward_hooks
            or _nn_module._global_backward_pre_hooks
            or _nn_module._global_backward_hooks
            or torch._C._get_tracing_state()
        )
    except AttributeError:  # pragma: no cover - a future torch
        return False


class LossAggregator(torch.nn.Module):
    """The losses of one training phase (``disc`` or ``gen``), summed through the hooks.

    Args:
        losses: loss modules, each with ``data_info`` set.
        name: the phase, used in messages.
        nonfinite: ``raise`` (default) stops at a NaN or infinite value and
            names the loss (but only warns when the outputs hold an enabled
            ``torch.amp.GradScaler``, whose protocol expects overflows: it
            skips that step and lowers its scale); ``warn`` issues a
            ``RuntimeWarning``; ``ignore``.
        max_log_vars: slots in the one buffer all ranks reduce together; must
            hold every value logged in a step (the same on every rank).
        plugin_manager: defaults to :func:`get_plugin_manager`.
    """

    def __init__(
        self,
        losses: Sequence[LossModule],
        *,
        name: str = "disc",
        nonfinite: NonFinitePolicy = "raise",
        max_log_vars: int = 64,
        plugin_manager: pluggy.PluginManager | None = None,
    ) -> None:
        super().__init__()
        losses = list(losses)  # a generator is read once, here
        if isinstance(max_log_vars, bool) or not isinstance(max_log_vars, int) or max_log_vars < 1:
            raise ConfigError(
                "max_log_vars must be a positive integer (the slots of the one buffer all "
                f"ranks reduce together), got {max_log_vars!r}",
                where=f"{name}.max_log_vars",
            )
        if nonfinite not in NONFINITE_POLICIES:
            raise ConfigError(
                f"nonfinite must be one of {', '.join(NONFINITE_POLICIES)}, got {nonfinite!r}",
                where=f"{name}.nonfinite",
            )
        for index, loss in enumerate(losses):
            if not isinstance(loss, LossModule):
                raise ConfigError(
                    f"an aggregator holds LossModule instances, got {type(loss).__name__}",
                    where=f"{name}[{index}]",
                )
            if loss.data_info is None:
                raise ConfigError(
                    f"{type(loss).__name__} has no data_info; the losses of an aggregator "
                    "read their inputs from the outputs dict, so map each input to a key, "
                    f"e.g. data_info={{{(loss.input_names() or ('pred',))[0]!r}: '<outputs key>'}}",
                    where=f"{name}[{index}].data_info",
                )
        self.losses = torch.nn.ModuleList(losses)
        self.name = name
        self.nonfinite: NonFinitePolicy = nonfinite
        self.max_log_vars = max_log_vars
        # None means the process-wide manager, looked up per call, so copying an
        # aggregator (deepcopy for an EMA model, pickling) never copies plugins.
        self._plugin_manager = plugin_manager

    def forward(self, outputs: Mapping[str, Any]) -> LossResult:
        if type(outputs) is not dict and not isinstance(outputs, Mapping):
            raise ConfigError(
                f"an aggregator is called with the outputs dict, got {type(outputs).__name__}",
                where=self.name,
            )
        pm = self._plugin_manager or get_plugin_manager()
        hook = pm.hook
        # Where the core default is the only implementation, call it directly
        # (same result, without pluggy's per-call cost); see bypassable_hooks.
        bypass = bypassable_hooks(pm)
        compute_directly = "ganloss_compute_loss" in bypass
        merge_directly = "ganloss_merge_loss" in bypass
        # nn.Module.__call__ goes straight to forward() for a module without
        # hooks; doing the same here saves two Python frames per loss.
        call_forward = compute_directly and _module_calls_are_plain()
        values: dict[str, torch.Tensor] = {}
        extra: dict[str, torch.Tensor] = {}
        for loss in self._held():
            if not compute_directly:
                value = hook.ganloss_compute_loss(loss=loss, outputs=outputs, aggregator=self)
            elif call_forward and not (
                loss._forward_pre_hooks
                or loss._forward_hooks
                or loss._backward_pre_hooks
                or loss._backward_hooks
                or loss.__dict__.get("_compiled_call_impl") is not None
            ):
                value = loss.forward(outputs)
            else:
                value = loss(outputs)
            if value is None:
                continue
            name = loss.loss_name()
            current = values.get(name)
            if current is not None:
                value = (
                    current + value
                    if merge_directly
                    else hook.ganloss_merge_loss(name=name, current=current, new=value)
                )
            values[name] = value
            if loss.extra_log_vars:
                self._collect_extra(loss, extra)
        if extra and not values.keys().isdisjoint(extra):
            self._extra_clash(values, extra)
        if "ganloss_parse_losses" in bypass and "ganloss_reduce_log_vars" in bypass:
            total, floats = defaults.parse_and_reduce(values, extra, self)
        else:
            if "ganloss_parse_losses" in bypass:
                total, log_vars = defaults.ganloss_parse_losses(values)
            else:
                total, log_vars = hook.ganloss_parse_losses(losses=values, aggregator=self)
            if extra:
                log_vars.update({k: v.detach() for k, v in extra.items()})
            if "ganloss_reduce_log_vars" in bypass:
                floats = defaults.ganloss_reduce_log_vars(log_vars, self)
            else:
                floats = hook.ganloss_reduce_log_vars(log_vars=log_vars, aggregator=self)
        if not values and not total.requires_grad:  # every loss skipped this step
            total = self._zero_total(outputs, total)
        if self.nonfinite != "ignore" and not math.isfinite(sum(floats.values())):
            self._check_finite(floats, outputs)  # some value is not finite (or the sum overflowed)
        result = LossResult(total, values, floats)
        if "ganloss_after_aggregate" not in bypass:
            hook.ganloss_after_aggregate(result=result, outputs=outputs, aggregator=self)
        return result

    def _collect_extra(self, loss: LossModule, extra: dict[str, torch.Tensor]) -> None:
        assert loss.extra_log_vars is not None
        for key, value in loss.extra_log_vars.items():
            if key in extra or key == "loss":
                raise GanLossError(
                    f"{loss.loss_name()} logs an extra value {key!r} that another loss of the "
                    "aggregator already logs; give one of them another name (most losses take "
                    "a prefix option for their extra values) so neither is silently lost",
                    where=self.name,
                )
            extra[key] = value

    def _extra_clash(self, values: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
        clash = sorted(values.keys() & extra.keys())
        raise GanLossError(
            f"the extra logged value(s) {clash} have the name of a loss of this aggregator, "
            "so one would overwrite the other in log_vars; rename the loss (loss_name=...) or "
            "the extra values (most losses take a prefix option for them)",
            where=self.name,
        )

    def _zero_total(self, outputs: Mapping[str, Any], default: torch.Tensor) -> torch.Tensor:
        """The total of a step whose losses were all skipped.

        A zero that requires grad (where grad is enabled), so ``total.backward()``
        works unchanged, on the device of the first floating-point input of the
        losses (else of any floating-point tensor in ``outputs``), so that it
        lives with the model's values rather than with, say, a CPU iteration counter.
        """
        keys = [key for loss in self._held() for key in (loss.data_info or {}).values()]
        keys += list(outputs)
        device = default.device
        for key in keys:
            value = outputs.get(key)
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                device = value.device
                break
        return torch.zeros(
            (), dtype=default.dtype, device=device, requires_grad=torch.is_grad_enabled()
        )

    def _check_finite(self, floats: Mapping[str, float], outputs: Mapping[str, Any]) -> None:
        bad = [k for k, v in floats.items() if not math.isfinite(v)]
        if not bad:
            return
        culprits = [k for k in bad if k != "loss"] or bad
        at = f" at iteration {outputs['iteration']}" if "iteration" in outputs else ""
        message = (
            f"non-finite value{'s' if len(culprits) > 1 else ''} in "
            + ", ".join(f"{k}={floats[k]}" for k in culprits)
            + f"{at}; the total would carry it into the optimizer. Check the inputs of "
            "those losses (learning rate, a log of zero, an exploding discriminator), or set "
            "nonfinite='warn' or 'ignore' on the aggregator"
        )
        if self.nonfinite == "raise" and not _scaling(outputs):
            raise NonFiniteLossError(message, where=self.name)
        if self.nonfinite == "raise":  # an overflow a GradScaler is there to handle
            message = (
                f"non-finite value{'s' if len(culprits) > 1 else ''} in "
                + ", ".join(f"{k}={floats[k]}" for k in culprits)
                + f"{at} while the outputs hold an enabled GradScaler: an overflow of the "
                "scaled values, which the scaler handles by skipping this optimizer step and "
                "lowering its scale (nonfinite='ignore' silences this warning)"
            )
        warnings.warn(f"{self.name}: {message}", RuntimeWarning, stacklevel=3)

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The plugin manager whose hooks this aggregator calls."""
        return self._plugin_manager or get_plugin_manager()

    def loss_names(self) -> list[str]:
        """The distinct ``loss_name()``s of the held losses, in order."""
        return list(dict.fromkeys(loss.loss_name() for loss in self._held()))

    def _held(self) -> Iterable[LossModule]:
        # The ModuleList's own dict, not self.losses: nn.Module.__getattr__ and
        # ModuleList.__iter__ cost more than the loop they feed.
        held = cast("torch.nn.ModuleList", self._modules["losses"])
        return cast("Iterable[LossModule]", held._modules.values())

    def extra_repr(self) -> str:
        return f"name={self.name!r}, nonfinite={self.nonfinite!r}"


def _scaling(outputs: Mapping[str, Any]) -> bool:
    """Whether the outputs hold an enabled ``torch.amp.GradScaler`` (mixed-precision training).

    Under one, a non-finite value is expected now and then (a scaled value
    overflowed): the scaler skips the step and lowers its scale.
    """
    return any(
        isinstance(value, torch.amp.GradScaler) and value.is_enabled() for value in outputs.values()
    )
