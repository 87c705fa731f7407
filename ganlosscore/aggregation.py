"""Aggregation: what a model calls once per phase to get its total loss.

:class:`LossAggregator` runs each step through the hooks of
:mod:`ganlosscore.hookspecs` (compute, merge, parse, reduce, after), so any of
them can be wrapped or replaced by a plugin. It is an ``nn.Module`` holding
its losses, so ``.to()``, ``state_dict()`` and DistributedDataParallel see
their parameters and buffers.

The result stays on the device: :class:`LossResult` holds tensors, and the
Python floats of ``log_vars`` are made when first read. A step whose log
values nobody reads (``nonfinite="defer"`` or ``"ignore"``) makes no host
synchronisation and traces under ``torch.compile``.
"""

from __future__ import annotations

import math
import operator
import sys
import uuid
import warnings
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import pluggy
import torch
import torch.distributed as dist

from . import defaults
from .checks import check_choice, check_int
from .distributed import collective_device, is_distributed
from .errors import ConfigError, GanLossError, NonFiniteLossError, PluginLoadError, brief
from .hooks import bypassable_hooks, get_plugin_manager, load_failures
from .protocol import LossModule

if TYPE_CHECKING:
    from .provenance import Provenance

__all__ = ["NONFINITE_POLICIES", "LossAggregator", "LossResult"]

NonFinitePolicy = Literal["raise", "warn", "defer", "ignore"]
NONFINITE_POLICIES: tuple[str, ...] = ("raise", "warn", "defer", "ignore")


class LossResult:
    """The outcome of one aggregation; it stays on the device until its log values are read.

    ``total`` is the tensor to call ``backward()`` on (when every loss was
    skipped this step, a zero on the device of the losses' inputs that
    requires grad where grad is enabled, so ``total.backward()`` is a harmless
    no-op; see :attr:`skipped`); ``losses`` maps each ``loss_name()`` to its
    (merged, weighted) value; ``log_tensors`` maps each name to log, ``loss``
    (the total) included, to a detached scalar tensor on its device; ``step``
    is ``outputs['iteration']`` (under ``torch.distributed`` without one, the
    aggregator's count of aggregations), or ``None``.

    :attr:`log_vars` (Python floats, averaged over ranks) is made on first
    access and kept. It unpacks as MMGeneration's pair:
    ``total, log_vars = aggregator(outputs)``.

    A plain class (not an attrs record) so that ``torch.compile`` can build
    and return it from a compiled graph.
    """

    def __init__(
        self,
        total: torch.Tensor,
        losses: dict[str, torch.Tensor],
        log_tensors: dict[str, torch.Tensor],
        *,
        step: Any = None,
        aggregator: LossAggregator | None = None,
        log_vars: dict[str, float] | None = None,
    ) -> None:
        self.total = total
        self.losses = losses
        self._log_sources = log_tensors  # detached on first access: nothing to do per step
        self._log_tensors: dict[str, torch.Tensor] | None = None
        self.step = step
        self._aggregator = aggregator
        self._log_vars = log_vars

    def __iter__(self) -> Iterator[Any]:
        yield self.total
        yield self.log_vars

    @property
    def log_tensors(self) -> dict[str, torch.Tensor]:
        """Name -> detached scalar tensor on its device, ``loss`` included; not averaged."""
        if self._log_tensors is None:
            self._log_tensors = {k: v.detach() for k, v in self._log_sources.items()}
        return self._log_tensors

    @property
    def log_vars(self) -> dict[str, float]:
        """Name -> Python float, averaged over ranks, including ``loss`` (the total).

        Made on first access, through the ``ganloss_reduce_log_vars`` hook:
        by default one host transfer of all values, and under
        ``torch.distributed`` a fixed-size header collective and one for the
        values, so every rank must read the log values of the same steps.
        Under ``nonfinite="defer"`` the aggregator's non-finite record is
        checked first (:meth:`LossAggregator.check_finite`).
        """
        if self._log_vars is None:
            if self._aggregator is None:
                self._log_vars = defaults.local_floats(self._log_sources)
            else:
                self._log_vars = self._aggregator._read_log_vars(self)
        return self._log_vars

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

    def __repr__(self) -> str:
        logged = "not read" if self._log_vars is None else self._log_vars
        return f"LossResult(total={self.total!r}, losses={list(self.losses)}, log_vars={logged})"


class LossAggregator(torch.nn.Module):
    """The losses of one training phase (``disc`` or ``gen``), summed through the hooks.

    Args:
        losses: loss modules, each with ``data_info`` set.
        name: the phase, used in messages.
        nonfinite: what a NaN or infinite logged value does. ``raise``
            (default) stops at it, naming the loss (but only warns when the
            outputs hold an enabled ``torch.amp.GradScaler``, whose protocol
            expects overflows: it skips that step and lowers its scale);
            ``warn`` issues a ``RuntimeWarning``. Both read the log values
            at every aggregation: one host synchronisation per step (and,
            under ``torch.distributed``, the reduction's collectives).
            ``defer`` makes none: it counts non-finite values on the device
            and raises :class:`~ganlosscore.NonFiniteLossError` when log
            values are read or :meth:`check_finite` is called. ``ignore``
            makes none and checks nothing.
        max_log_vars: the most values a step may log (the same on every rank).
        plugin_manager: defaults to :func:`get_plugin_manager`, looked up
            per call. A copy of the aggregator (``copy.deepcopy``, pickling
            within a process) shares this manager with the original rather
            than copying its plugins.
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
        self.max_log_vars = check_int(max_log_vars, where=f"{name}.max_log_vars")
        self.nonfinite = cast(
            "NonFinitePolicy",
            check_choice(nonfinite, NONFINITE_POLICIES, where=f"{name}.nonfinite"),
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
        # None means the process-wide manager, looked up per call, so copying an
        # aggregator (deepcopy for an EMA model, pickling) never copies plugins.
        self._plugin_manager = plugin_manager
        if plugin_manager is None:
            get_plugin_manager()  # built now, not inside a compiled training step
        # Aggregations under torch.distributed: the step of log values whose
        # outputs carry no 'iteration'. A tensor, so that counting neither
        # syncs nor recompiles a compiled step.
        self._calls = torch.zeros((), dtype=torch.int64)
        # nonfinite="defer": logged keys -> count of non-finite steps per key, on the device.
        self._nonfinite_counts: dict[tuple[str, ...], torch.Tensor] = {}

    def forward(self, outputs: Mapping[str, Any]) -> LossResult:
        if type(outputs) is not dict and not isinstance(outputs, Mapping):
            raise ConfigError(
                f"an aggregator is called with the outputs dict, got {type(outputs).__name__}",
                where=self.name,
            )
        pm = self.plugin_manager
        if getattr(pm, "load_failures", None):  # see hooks.load_failures
            self._refuse(load_failures(pm))
        hook = pm.hook
        # Where the core default is the only implementation, call it directly
        # (same result, without pluggy's per-call cost); see bypassable_hooks.
        bypass = bypassable_hooks(pm)
        compute_directly = "ganloss_compute_loss" in bypass
        merge_directly = "ganloss_merge_loss" in bypass
        values: dict[str, torch.Tensor] = {}
        extra: dict[str, torch.Tensor] = {}
        losses: Iterable[LossModule] = self.losses  # type: ignore[assignment]
        for loss in losses:
            try:  # zero-cost in Python 3.11+ until something raises
                if compute_directly:
                    value = loss(outputs)
                else:
                    value = hook.ganloss_compute_loss(loss=loss, outputs=outputs, aggregator=self)
            except Exception as exc:
                self._note_failure(exc, loss, outputs)
                raise
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
        if "ganloss_parse_losses" in bypass:
            total, log_tensors = defaults.parse_losses(values)  # detached when read
        else:
            parsed = hook.ganloss_parse_losses(losses=values, aggregator=self)
            total, log_tensors = self._checked_parse(parsed, pm)
        if extra:
            log_tensors.update(extra)
        if not values and not total.requires_grad:  # every loss skipped this step
            total = self._zero_total(outputs, total)
        step = outputs.get("iteration")
        distributed = is_distributed()
        if distributed:
            self._calls.add_(1)
            if step is None:
                step = self._calls.clone()
        result = LossResult(total, values, log_tensors, step=step, aggregator=self)
        policy = self.nonfinite
        if policy == "raise" or policy == "warn":  # read now: one host synchronisation
            if distributed or "ganloss_reduce_log_vars" not in bypass:
                floats = result.log_vars
            else:  # the default reduction of one process, inlined: the hot path
                floats = result._log_vars = defaults.local_floats(log_tensors)
            if not all(map(math.isfinite, floats.values())):
                self._report_nonfinite(floats, outputs)
        elif policy == "defer":
            self._count_nonfinite(log_tensors)
        if "ganloss_after_aggregate" not in bypass:
            hook.ganloss_after_aggregate(result=result, outputs=outputs, aggregator=self)
        return result

    # -- reading log values -----------------------------------------------------

    def _read_log_vars(self, result: LossResult) -> dict[str, float]:
        """``result``'s log values as floats, through ``ganloss_reduce_log_vars``."""
        if self.nonfinite == "defer":
            self.check_finite()
        pm = self.plugin_manager
        step = None if result.step is None else operator.index(result.step)
        if "ganloss_reduce_log_vars" in bypassable_hooks(pm):
            return defaults.ganloss_reduce_log_vars(result.log_tensors, self, step)
        floats = pm.hook.ganloss_reduce_log_vars(
            log_vars=dict(result.log_tensors), aggregator=self, step=step
        )
        return self._checked_floats(floats, pm)

    def check_finite(self) -> None:
        """Raise :class:`~ganlosscore.NonFiniteLossError` if a logged value was not finite.

        Under ``nonfinite="defer"`` the aggregator counts, on the device, the
        steps in which each logged value was NaN or infinite; this reads that
        record (one host synchronisation), clears it, and raises naming the
        values and how many steps each was bad since the last check. Under
        ``torch.distributed`` every rank must call it together (reading
        ``log_vars`` does): one fixed-size collective tells every rank whether
        any rank saw a non-finite value, so all of them raise. Under the other
        policies it does nothing.
        """
        if self.nonfinite != "defer":
            return
        pending, self._nonfinite_counts = self._nonfinite_counts, {}
        bad: dict[str, int] = {}
        if pending:
            tensors = list(pending.values())
            try:
                counts = torch.cat(tensors).tolist()
            except RuntimeError:  # records on several devices
                counts = torch.cat([t.cpu() for t in tensors]).tolist()
            keys = [key for keyset in pending for key in keyset]
            for key, count in zip(keys, counts):
                if count:
                    bad[key] = bad.get(key, 0) + int(count)
        anywhere = len(bad)
        if is_distributed():
            device = collective_device(torch.device("cpu"))
            flag = torch.tensor([anywhere], dtype=torch.int64, device=device)
            dist.all_reduce(flag)
            anywhere = int(flag.tolist()[0])
        if not anywhere:
            return
        if not bad:
            raise NonFiniteLossError(
                "another rank logged non-finite values since the last check (this rank's "
                "were finite); its error names them",
                where=self.name,
            )
        culprits = [k for k in bad if k != "loss"] or list(bad)
        raise NonFiniteLossError(
            "non-finite values since the last check: "
            + ", ".join(f"{k} in {bad[k]} step{'s' if bad[k] > 1 else ''}" for k in culprits)
            + "; the optimizer has taken those steps. Restore the last checkpoint taken "
            "after a check that passed and look at the inputs of those losses (learning "
            "rate, a log of zero, an exploding discriminator), or use nonfinite='raise' to "
            "stop at the step itself",
            where=self.name,
        )

    def _count_nonfinite(self, log_tensors: Mapping[str, torch.Tensor]) -> None:
        if not log_tensors:
            return
        keys = tuple(log_tensors)
        bad = ~torch.isfinite(defaults.stack_values(log_tensors.values()))
        counts = self._nonfinite_counts.get(keys)
        self._nonfinite_counts[keys] = bad.int() if counts is None else counts + bad

    def _report_nonfinite(self, floats: Mapping[str, float], outputs: Mapping[str, Any]) -> None:
        bad = [k for k, v in floats.items() if not math.isfinite(v)]
        culprits = [k for k in bad if k != "loss"] or bad
        values = ", ".join(f"{k}={floats[k]}" for k in culprits)
        plural = "s" if len(culprits) > 1 else ""
        at = f" at iteration {outputs['iteration']}" if "iteration" in outputs else ""
        message = (
            f"non-finite value{plural} in {values}{at}; the total would carry it into the "
            "optimizer. Check the inputs of those losses (learning rate, a log of zero, an "
            "exploding discriminator), or set nonfinite='warn', 'defer' or 'ignore' on the "
            "aggregator"
        )
        if self.nonfinite == "raise" and not _scaling(outputs):
            raise NonFiniteLossError(message, where=self.name)
        if self.nonfinite == "raise":  # an overflow a GradScaler is there to handle
            message = (
                f"non-finite value{plural} in {values}{at} while the outputs hold an enabled "
                "GradScaler: an overflow of the scaled values, which the scaler handles by "
                "skipping this optimizer step and lowering its scale (nonfinite='ignore' "
                "silences this warning)"
            )
        warnings.warn(f"{self.name}: {message}", RuntimeWarning, stacklevel=3)

    # -- what plugins give back --------------------------------------------------

    def _checked_parse(
        self, parsed: Any, pm: pluggy.PluginManager
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if isinstance(parsed, (tuple, list)) and len(parsed) == 2:
            total, log_tensors = parsed
            if isinstance(total, torch.Tensor) and isinstance(log_tensors, dict):
                wrong = [
                    k
                    for k, v in log_tensors.items()
                    if not isinstance(k, str) or not isinstance(v, torch.Tensor) or v.numel() != 1
                ]
                if not wrong:
                    return total, dict(log_tensors)
                shown = ", ".join(f"{k!s}: {brief(log_tensors[k])}" for k in wrong[:3])
                problem = f"log values that are not one-element tensors ({shown})"
            else:
                problem = f"({type(total).__name__}, {type(log_tensors).__name__})"
        else:
            problem = brief(parsed)
        raise GanLossError(
            f"ganloss_parse_losses of {_implementers(pm, 'ganloss_parse_losses')} returned "
            f"{problem}; it must return (total, log_vars): the total as a tensor and a dict "
            "of name -> detached one-element tensor",
            where=self.name,
        )

    def _checked_floats(self, floats: Any, pm: pluggy.PluginManager) -> dict[str, float]:
        if isinstance(floats, dict):
            checked: dict[str, float] = {}
            for key, value in floats.items():
                if isinstance(value, float) and isinstance(key, str):
                    checked[key] = value
                elif isinstance(value, int) and not isinstance(value, bool):
                    checked[key] = float(value)
                else:
                    problem = f"{type(value).__name__} {brief(value)} for {brief(key)}"
                    break
            else:
                return checked
        else:
            problem = f"{type(floats).__name__} {brief(floats)}"
        raise GanLossError(
            f"ganloss_reduce_log_vars of {_implementers(pm, 'ganloss_reduce_log_vars')} "
            f"returned {problem}; it must return a dict of name -> Python float (read "
            "tensors with one .tolist() of their stack, not one .item() each)",
            where=self.name,
        )

    def _refuse(self, failures: Mapping[str, str]) -> None:
        distributions = sorted({key.partition(":")[0] for key in failures})
        detail = "; ".join(f"{key}: {why}" for key, why in failures.items())
        raise PluginLoadError(
            f"the hook plugin(s) of {', '.join(distributions)} failed to load ({detail}). "
            "A hook plugin changes what the losses compute, so the aggregator does not run "
            "without it: fix or uninstall it, or deselect it with "
            f"GANLOSS_DISABLE_PLUGINS={','.join(distributions)} before the process starts",
            where=self.name,
        )

    def _note_failure(self, exc: Exception, loss: LossModule, outputs: Mapping[str, Any]) -> None:
        """Add a PEP 678 note to ``exc``, raised while ``loss`` computed: where it came from.

        Names the phase, the loss (its name, class and distribution) and the
        outputs keys it reads with what each held, so that a torch error deep
        in a plugin's math (a wrong dtype, a shape) points at the config entry.
        Runs only when an exception propagates: nothing on the success path.
        """
        try:
            from .provenance import loss_origin

            cls = type(loss)
            distribution, version = loss_origin(cls)
            origin = distribution if version is None else f"{distribution} {version}"
            read = [
                f"{argument}={key!r} ({_held(outputs, key)})"
                for argument, key in (loss.data_info or {}).items()
            ]
            note = (
                f"ganlosscore: raised while aggregator {self.name!r} computed "
                f"{loss.loss_name()} ({cls.__qualname__} from {origin}); it reads outputs "
                + (", ".join(read) if read else "no keys")
            )
        except Exception as failure:  # never hide the real error behind ours
            note = (
                f"ganlosscore: raised while aggregator {self.name!r} computed a loss ({failure!r})"
            )
        if sys.version_info >= (3, 11):
            exc.add_note(note)
        else:  # pragma: no cover - PEP 678's attribute, which 3.10 keeps but does not print
            setattr(exc, "__notes__", [*getattr(exc, "__notes__", []), note])  # noqa: B010

    # -- the rest ------------------------------------------------------------------

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

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The plugin manager whose hooks this aggregator calls."""
        pm = self._plugin_manager
        if pm is None:
            return get_plugin_manager()
        if isinstance(pm, _SharedManager):
            raise ConfigError(
                "this aggregator was pickled with a plugin manager of its own, which does "
                "not exist in this process (a manager is shared, never copied); give it one: "
                "aggregator.plugin_manager = new_plugin_manager(...)",
                where=self.name,
            )
        return pm

    @plugin_manager.setter
    def plugin_manager(self, pm: pluggy.PluginManager | None) -> None:
        self._plugin_manager = pm

    def provenance(self) -> Provenance:
        """Which distributions shaped this aggregator's result, as a record that is JSON data.

        The losses it holds (``loss_name()``, class, distribution, version;
        ``"<local>"`` for a class no installed distribution provides, such as
        one registered with ``register_loss``) and the plugins of its manager
        that implement an aggregation hook (name, distribution, version,
        hooks). Computed from package metadata on each call, never on a
        training step; ``provenance().as_dict()`` goes into ``json.dumps``.
        """
        from .provenance import provenance

        return provenance(self)

    def loss_names(self) -> list[str]:
        """The distinct ``loss_name()``s of the held losses, in order."""
        return list(dict.fromkeys(loss.loss_name() for loss in self._held()))

    def _held(self) -> Iterable[LossModule]:
        return cast("Iterable[LossModule]", self.losses)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, nonfinite={self.nonfinite!r}"

    # -- copies: the plugin manager is shared, never copied ------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # type: ignore[no-untyped-call]
        pm = state.get("_plugin_manager")
        if pm is not None and not isinstance(pm, _SharedManager):
            state["_plugin_manager"] = _SharedManager.of(pm)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        shared = state.get("_plugin_manager")
        if isinstance(shared, _SharedManager):
            state = {**state, "_plugin_manager": shared.resolve()}
        super().__setstate__(state)  # type: ignore[no-untyped-call]


# Managers that aggregators were copied or pickled with, by token, in this process.
_TOKENS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_MANAGERS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()


class _SharedManager:
    """A plugin manager in a pickle or a deep copy: a token, resolved in this process."""

    def __init__(self, token: str) -> None:
        self.token = token

    @classmethod
    def of(cls, pm: pluggy.PluginManager) -> _SharedManager:
        token = _TOKENS.get(pm)
        if token is None:
            token = _TOKENS[pm] = uuid.uuid4().hex
            _MANAGERS[token] = pm
        return cls(token)

    def resolve(self) -> Any:
        """The manager, where this process holds it; else this token (an error when used)."""
        return _MANAGERS.get(self.token, self)


def _implementers(pm: pluggy.PluginManager, hook_name: str) -> str:
    """The plugins other than the core's defaults that implement ``hook_name``, by name."""
    names = [
        str(pm.get_name(impl.plugin))
        for impl in getattr(pm.hook, hook_name).get_hookimpls()
        if impl.plugin is not defaults
    ]
    return "plugin " + ", ".join(repr(n) for n in names) if names else "a plugin"


def _held(outputs: Mapping[str, Any], key: Any) -> str:
    """What ``outputs[key]`` holds, in words: ``float16 tensor of shape (4, 1) on cpu``."""
    if key not in outputs:
        return "missing"
    value = outputs[key]
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        return f"{dtype} tensor of shape {tuple(value.shape)} on {value.device}"
    if isinstance(value, torch.nn.Module):
        return f"a {type(value).__name__} module"
    return f"{type(value).__name__} {brief(value, 40)}"


def _scaling(outputs: Mapping[str, Any]) -> bool:
    """Whether the outputs hold an enabled ``torch.amp.GradScaler`` (mixed-precision training).

    Under one, a non-finite value is expected now and then (a scaled value
    overflowed): the scaler skips the step and lowers its scale.
    """
    return any(
        isinstance(value, torch.amp.GradScaler) and value.is_enabled() for value in outputs.values()
    )
