"""The loss protocol: what a loss is and how it is called.

A loss states its math once, in ``compute``, whose parameters are its inputs,
and returns the *unweighted* loss (or ``None`` to skip this step). Everything
MMGeneration repeated in every module's ``forward`` lives here, once:

* resolving inputs from the model's outputs dict through ``data_info``;
* checking ``data_info`` against ``compute``'s signature at construction;
* lazy regularization through ``interval``;
* weighting with ``loss_weight`` (:meth:`LossModule.weight_loss`);
* the ``loss_name()`` contract (it starts with ``loss_``).

The whole of a loss plugin is then its math and its hyperparameters::

    class DiscShiftLoss(LossModule):
        default_loss_name = "loss_disc_shift"

        def compute(self, pred):
            return (pred ** 2).mean()
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar

import attrs
import torch
from torch import Tensor

from .checks import check_floating_tensor, check_int, check_number
from .errors import (
    CallSignatureError,
    ConfigError,
    DataInfoError,
    GanLossError,
    LossInputError,
    NotALossError,
    brief,
    did_you_mean,
    several,
)

_T = TypeVar("_T")

__all__ = ["COMMON_KEYWORDS", "InputSpec", "LossModule", "constructor_parameters"]

#: Keywords every loss accepts, whatever its own hyperparameters.
COMMON_KEYWORDS: tuple[str, ...] = ("loss_weight", "data_info", "loss_name", "interval")

_CALL_FORMS = (
    "a loss with data_info is called as loss(outputs) or loss(outputs_dict=outputs); "
    "a loss without data_info is called with its inputs directly, loss({inputs})"
)


@attrs.frozen
class InputSpec:
    """One input of a loss: a parameter of its ``compute`` method."""

    name: str
    required: bool


def _floating_inputs(compute: Any) -> frozenset[str]:
    """The parameters of ``compute`` annotated ``Tensor`` (not ``Tensor | None``).

    The annotation is read as written (``from __future__ import annotations``
    leaves the string ``"Tensor"``): evaluating it could fail on names a
    module imports for type checking only.
    """
    return frozenset(
        name
        for name, p in inspect.signature(compute).parameters.items()
        if p.annotation is torch.Tensor or p.annotation in ("Tensor", "torch.Tensor")
    )


def _read_inputs(cls: type, compute: Any) -> tuple[tuple[InputSpec, ...], bool]:
    """The inputs ``compute`` declares, and whether it takes ``**kwargs``."""
    params = list(inspect.signature(compute).parameters.values())[1:]  # drop self
    unnamed = [p.name for p in params if p.kind is p.POSITIONAL_ONLY]
    if unnamed:
        raise NotALossError(
            f"{cls.__name__}.compute has positional-only parameter(s) {unnamed}; the inputs "
            "of a loss are named in data_info, so make them ordinary parameters "
            "(remove the '/')",
            where=f"{cls.__qualname__}.compute",
        )
    inputs = tuple(
        InputSpec(p.name, p.default is inspect.Parameter.empty)
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )
    return inputs, any(p.kind is p.VAR_KEYWORD for p in params)


def constructor_parameters(cls: type) -> dict[str, inspect.Parameter]:
    """Every keyword ``cls(...)`` accepts, following ``**kwargs`` up the MRO.

    A subclass ``__init__(self, norm_mode="pixel", **kwargs)`` that passes
    ``**kwargs`` on to ``LossModule.__init__`` accepts its own hyperparameters
    and the common keywords; this walks that chain so configs can be checked
    (and described by ``ganloss info``) before anything is built.
    """
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is torch.nn.Module:
            break
        passes_on = False
        for p in list(inspect.signature(init).parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                passes_on = True
            elif p.kind is not p.VAR_POSITIONAL:
                found.setdefault(p.name, p)
        if not passes_on:
            break
    return found


class LossModule(torch.nn.Module):
    """Base class of every ganlosscore loss.

    Args:
        loss_weight: Multiplies the value ``compute`` returns (see
            :meth:`weight_loss` for losses that weight differently).
        data_info: Maps each input of ``compute`` to a key of the model's
            outputs dict, e.g. ``{"pred": "disc_pred_real"}``. With it the
            loss is called as ``loss(outputs)``; without it, with its inputs.
            ``None`` takes the class's ``default_data_info`` (usually none);
            ``False`` means none even where the class has a default.
        loss_name: Overrides the class's ``default_loss_name``; must start with
            ``loss_`` so that aggregation adds it to the total.
        interval: Lazy regularization: with ``interval > 1`` the loss is
            computed only when ``outputs["iteration"] % interval == 0`` and
            returns ``None`` otherwise (needs ``data_info``).

    Subclasses set ``default_loss_name``, write ``compute`` and take their own
    hyperparameters as keyword arguments of ``__init__``, passing the common
    ones on with ``**kwargs``.
    """

    #: The ``loss_name()`` of instances that do not override it.
    default_loss_name: ClassVar[str | None] = None
    #: The ``data_info`` used when a config gives none (MMGeneration gives some
    #: losses one, e.g. its Gaussian KLD). ``data_info=False`` then opts out,
    #: for a loss called with its inputs directly.
    default_data_info: ClassVar[Mapping[str, str] | None] = None
    #: The inputs of ``compute``, read once per class.
    input_specs: ClassVar[tuple[InputSpec, ...]] = ()
    #: Whether ``compute`` accepts any further keyword (``**kwargs``).
    accepts_any_input: ClassVar[bool] = False
    #: The inputs that must be floating-point tensors: by default those
    #: ``compute`` annotates ``Tensor``. The protocol checks them when it
    #: resolves the inputs (an ``isinstance`` and a dtype flag each, no device
    #: sync), so a loss never checks them itself. A class whose ``Tensor``
    #: input holds integers (timesteps, class labels) sets this in its body.
    floating_inputs: ClassVar[frozenset[str]] = frozenset()
    #: Extra values to log (not added to the total), set by ``compute`` when it
    #: has any (e.g. per-timestep-quartile losses); the aggregator adds them to
    #: ``log_vars`` after every call that returned a value.
    extra_log_vars: dict[str, torch.Tensor] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "compute" in cls.__dict__:
            cls.input_specs, cls.accepts_any_input = _read_inputs(cls, cls.compute)
            if "floating_inputs" not in cls.__dict__:
                cls.floating_inputs = _floating_inputs(cls.compute)

    def __init__(
        self,
        *,
        loss_weight: float = 1.0,
        data_info: Mapping[str, str] | Literal[False] | None = None,
        loss_name: str | None = None,
        interval: int = 1,
    ) -> None:
        super().__init__()
        if type(self).compute is LossModule.compute:
            raise NotALossError(
                f"{type(self).__name__} defines no compute(); a loss writes its math as "
                "compute(self, <inputs>) returning the unweighted loss",
                where=type(self).__qualname__,
            )
        values, problems = _checked_common(type(self), loss_weight, data_info, loss_name, interval)
        if problems:
            raise several(problems, type(self).__name__)
        self.loss_weight: float = values[0]
        self.interval: int = values[1]
        self._loss_name: str = values[2]
        self.data_info: dict[str, str] | None = values[3]
        self._plain_weighting = type(self).weight_loss is LossModule.weight_loss
        # The hot path iterates these tuples rather than the dict.
        self._data_items: tuple[tuple[str, str], ...] | None = (
            None if self.data_info is None else tuple(self.data_info.items())
        )
        self._floating_items = tuple(
            item for item in self._data_items or () if item[0] in self.floating_inputs
        )
        self._floating_positions = tuple(
            (i, spec.name)
            for i, spec in enumerate(self.input_specs)
            if spec.name in self.floating_inputs
        )

    # -- what a subclass writes ------------------------------------------------

    def compute(self, *args: Any, **kwargs: Any) -> torch.Tensor | None:
        """The unweighted loss of the given inputs, or ``None`` to skip it."""
        raise NotImplementedError(f"{type(self).__name__} must define compute()")

    def on_interval_skip(self, outputs: Mapping[str, Any]) -> None:
        """Called instead of ``compute`` at an iteration ``interval`` skips (no-op by default).

        A loss that runs a collective of its own in ``compute`` (see
        :func:`ganlosscore.sum_over_ranks`) joins it here with zeros, so that
        the ranks' collectives stay paired even when they disagree on the
        iteration: the aggregator then reports that as a clear error.
        """

    def weight_loss(self, loss: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Apply ``loss_weight`` to the value ``compute`` returned.

        Receives the same inputs ``compute`` received, so a loss whose
        weighting depends on them (MMGeneration's ``GANLoss`` weights only the
        generator term) overrides this method, and nothing else.
        """
        if self.loss_weight == 1.0:
            return loss
        return loss * self.loss_weight

    # -- the protocol ----------------------------------------------------------

    def loss_name(self) -> str:
        """The name this loss's value is logged and merged under."""
        return self._loss_name

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor | None:
        if self._data_items is None:
            return self._forward_direct(args, kwargs)
        if len(args) == 1 and not kwargs:
            outputs = args[0]
        elif not args and len(kwargs) == 1 and "outputs_dict" in kwargs:
            outputs = kwargs["outputs_dict"]
        else:
            raise self._call_error("with data_info set, it takes exactly one outputs dict")
        if type(outputs) is not dict and not isinstance(outputs, Mapping):
            raise self._call_error(
                f"with data_info set, it takes an outputs dict, not {type(outputs).__name__}"
            )
        if self.interval > 1 and not self.is_due(outputs):
            self.on_interval_skip(outputs)
            return None
        inputs = self.resolve_inputs(outputs)
        loss = self.compute(**inputs)
        if loss is None:
            return None
        if self._plain_weighting:  # inlined weight_loss: this is the training hot path
            return loss if self.loss_weight == 1.0 else loss * self.loss_weight
        return self.weight_loss(loss, **inputs)

    def _forward_direct(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
        if len(args) == 1 and not kwargs and isinstance(args[0], Mapping):
            raise self._call_error(
                "it was given an outputs dict but has no data_info; set data_info "
                "(e.g. data_info={'pred': 'disc_pred_real'}) or pass the inputs directly"
            )
        for position, arg in self._floating_positions:
            if position < len(args):
                value = args[position]
            elif arg in kwargs:
                value = kwargs[arg]
            else:
                continue  # missing: binding reports it below
            if not (isinstance(value, Tensor) and value.dtype.is_floating_point):
                check_floating_tensor(value, where=f"{self._loss_name}.{arg}")
        try:
            loss = self.compute(*args, **kwargs)
        except TypeError as exc:
            try:
                inspect.signature(self.compute).bind(*args, **kwargs)
            except TypeError as bind_error:
                raise self._call_error(str(bind_error)) from exc
            raise
        if loss is None:
            return None
        return self.weight_loss(loss, *args, **kwargs)

    def is_due(self, outputs: Mapping[str, Any]) -> bool:
        """Whether a lazy loss (``interval > 1``) runs at this iteration."""
        try:
            iteration = outputs["iteration"]
        except KeyError:
            raise DataInfoError(
                f"interval={self.interval} needs outputs['iteration'] to decide when to "
                f"run, but the outputs dict holds only {sorted(map(str, outputs))}",
                where=self._loss_name,
            ) from None
        try:
            step = operator.index(iteration)  # int, numpy integer, one-element int tensor
        except TypeError:
            step = None
        if step is None or isinstance(iteration, bool):
            raise LossInputError(
                f"interval={self.interval} reads outputs['iteration'] as the training step, "
                f"an integer; got {type(iteration).__name__} {brief(iteration)}",
                where=f"{self._loss_name}.iteration",
            )
        return step % self.interval == 0

    def resolve_inputs(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword inputs of ``compute``, looked up in ``outputs`` via ``data_info``.

        Each of :attr:`floating_inputs` must be a floating-point tensor, or
        this raises :class:`~ganlosscore.LossInputError` naming the key.
        """
        assert self._data_items is not None
        try:
            inputs = {arg: outputs[key] for arg, key in self._data_items}
        except KeyError:
            raise self._missing_key(outputs) from None
        for arg, key in self._floating_items:
            value = inputs[arg]
            if not (isinstance(value, Tensor) and value.dtype.is_floating_point):
                check_floating_tensor(value, where=f"{self._loss_name}.{arg}", key=key)
        return inputs

    def _missing_key(self, outputs: Mapping[str, Any]) -> DataInfoError:
        assert self._data_items is not None
        keys = sorted(map(str, outputs))
        arg, key = next((a, k) for a, k in self._data_items if k not in outputs)
        return DataInfoError(
            f"data_info maps input {arg!r} to outputs key {key!r}, which the outputs "
            f"dict does not hold; keys present: {keys}.{did_you_mean(key, keys)}",
            where=f"{self._loss_name}.data_info.{arg}",
        )

    @classmethod
    def input_names(cls) -> tuple[str, ...]:
        return tuple(spec.name for spec in cls.input_specs)

    def _call_error(self, problem: str) -> CallSignatureError:
        inputs = ", ".join(self.input_names()) or "..."
        return CallSignatureError(
            f"{type(self).__name__} was called in a shape it does not accept: {problem}. "
            + _CALL_FORMS.format(inputs=inputs),
            where=self._loss_name,
        )

    def extra_repr(self) -> str:
        parts = [f"loss_name={self._loss_name!r}", f"loss_weight={self.loss_weight}"]
        if self.data_info is not None:
            parts.append(f"data_info={self.data_info}")
        if self.interval > 1:
            parts.append(f"interval={self.interval}")
        return ", ".join(parts)


# -- construction-time checks ---------------------------------------------------


def _checked_common(
    cls: type[LossModule], loss_weight: Any, data_info: Any, loss_name: Any, interval: Any
) -> tuple[tuple[Any, Any, Any, Any], list[GanLossError]]:
    """The checked common keywords of ``cls`` and every problem found with them.

    Every keyword is checked before anything is raised, so that a config with
    several bad values is fixed in one pass.
    """
    label = cls.__name__
    if data_info is None:
        data_info = cls.default_data_info
    elif data_info is False:
        data_info = None
    problems: list[GanLossError] = []

    def checked(check: Callable[..., _T], *args: Any, **kwargs: Any) -> _T | None:
        try:
            return check(*args, **kwargs)
        except ConfigError as exc:
            problems.extend(exc.problems or (exc,))
            return None

    values = (
        checked(check_number, loss_weight, where="loss_weight"),
        checked(_check_interval, interval, data_info, label),
        checked(_check_name, cls.default_loss_name if loss_name is None else loss_name, label),
        None if data_info is None else checked(_check_data_info, cls, data_info, label),
    )
    return values, problems


def common_option_problems(cls: type[LossModule], options: Mapping[str, Any]) -> list[GanLossError]:
    """Every problem with the common keywords among ``options``, built or not.

    ``ganloss check`` uses it to report these even when the class's own
    constructor refuses another value first. A keyword the class declares in
    its own ``__init__`` is left to the class: it may transform the value
    before passing it on (the DDPM losses add ``timesteps`` to ``data_info``).
    """
    own = _own_keywords(cls)
    values = {
        "loss_weight": 1.0,
        "data_info": None,
        "loss_name": None,
        "interval": 1,
        **{key: options[key] for key in COMMON_KEYWORDS if key in options and key not in own},
    }
    problems = _checked_common(cls, **values)[1]
    if "data_info" in own and "interval" not in own and "interval" in options:
        # interval > 1 needs a data_info, which the class may build itself: only
        # the interval's own value can be judged here.
        problems = [p for p in problems if "needs data_info" not in p.summary]
    return problems


def _own_keywords(cls: type) -> set[str]:
    """The common keywords a subclass of LossModule declares in an ``__init__`` of its own."""
    own: set[str] = set()
    for klass in cls.__mro__:
        if klass is LossModule:
            break
        init = klass.__dict__.get("__init__")
        if init is not None:
            own.update(
                name for name in inspect.signature(init).parameters if name in COMMON_KEYWORDS
            )
    return own


def _check_interval(interval: Any, data_info: Any, label: str) -> int:
    checked = check_int(interval, where="interval")
    if checked > 1 and data_info is None:
        raise ConfigError(
            f"interval={checked} needs data_info: the iteration that decides when the loss "
            "runs is read from outputs['iteration']",
            where="interval",
        )
    return checked


def _check_name(name: Any, label: str) -> str:
    if name is None:
        raise ConfigError(
            f"{label} has no loss name: set the class attribute default_loss_name "
            "or pass loss_name='loss_...'",
            where="loss_name",
        )
    # MMGeneration's rule (its _parse_losses adds every term whose name contains
    # 'loss'), so that its CycleGAN and Pix2Pix configs ('cycle_loss', 'id_loss',
    # 'pixel_loss') build unchanged; loss_ stays the convention for class defaults.
    if not isinstance(name, str) or "loss" not in name:
        raise ConfigError(
            f"loss_name must be a string starting with 'loss_' or, as in MMGeneration, "
            f"containing 'loss' (only such terms are added to the total), got {brief(name)}",
            where="loss_name",
        )
    return name


def _check_data_info(cls: type[LossModule], data_info: Any, label: str) -> dict[str, str]:
    if not isinstance(data_info, Mapping):
        raise ConfigError(
            "data_info must map each input of the loss to a key of the outputs dict, "
            f"e.g. {{'pred': 'disc_pred_real'}}; got {type(data_info).__name__}",
            where="data_info",
        )
    inputs = cls.input_names()
    problems: list[GanLossError] = []
    for arg, key in data_info.items():
        if not isinstance(arg, str) or not isinstance(key, str):
            problems.append(
                ConfigError(
                    f"data_info entries map input names to outputs keys, both strings; "
                    f"got {brief(arg)}: {brief(key)}",
                    where="data_info",
                )
            )
        elif arg not in inputs and not cls.accepts_any_input:
            problems.append(
                ConfigError(
                    f"{label} has no input {brief(arg)}; its inputs are {list(inputs)}."
                    + did_you_mean(arg, inputs),
                    where=f"data_info.{arg}",
                )
            )
    missing = [s.name for s in cls.input_specs if s.required and s.name not in data_info]
    if missing:
        problems.append(
            ConfigError(
                f"data_info does not map the required input(s) {missing} of {label}; "
                f"add e.g. {{{missing[0]!r}: '<outputs key>'}}",
                where="data_info",
            )
        )
    if problems:
        raise several(problems, label)
    return dict(data_info)
