"""The conformance kit: does a loss class keep the protocol?

``check_loss(config, make_outputs)`` builds the loss from ``config`` several
times, feeds it fresh outputs from ``make_outputs(dtype)`` and checks, in
float32 and float64 (one name per check, as in :data:`CHECKS`):

* ``naming``: ``loss_name()`` starts with ``loss_``, and ``loss_name=`` overrides it;
* ``finite``: the value is a finite floating-point tensor of the input dtype;
* ``rebuild``: two losses built from the same config give the same value;
* ``weight``: ``loss_weight=2.5`` gives 2.5 times the value (``loss_weight`` is linear);
* ``direct``: the ``data_info`` path (``loss(outputs)`` and
  ``loss(outputs_dict=outputs)``) equals calling the loss with its inputs;
* ``gradients``: every tensor input that requires grad (also inside lists,
  tuples and dicts), and every module input with trainable parameters,
  receives a finite gradient;
* ``interval``: with ``interval=2`` the loss returns ``None`` at iteration 1
  and, at iteration 2, the value it has without ``interval``;
* ``state_dict``: a loss loaded from another's ``state_dict`` (after a step)
  gives the same value, so running statistics are saved with a checkpoint.

Every evaluation re-seeds torch, so losses that draw random numbers (gradient
penalty interpolation, noise) are compared on the same draws. Every check
runs even when another fails, and the :class:`ConformanceError` lists every
failure at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import torch

from ..config import build_loss
from ..errors import ConfigError, brief
from ..protocol import LossModule

__all__ = ["CHECKS", "ConformanceError", "ConformanceReport", "check_loss", "check_refused"]

CHECKS: tuple[str, ...] = (
    "naming",
    "finite",
    "rebuild",
    "weight",
    "direct",
    "gradients",
    "interval",
    "state_dict",
)

OutputsFactory = Callable[[torch.dtype], Mapping[str, Any]]

#: The weight the ``weight`` check applies; a value no loss is likely to special-case.
WEIGHT = 2.5


class ConformanceError(AssertionError):
    """A loss broke the protocol; the message lists every failed check.

    ``failures`` holds ``(check, message)`` pairs, one per failure (a check
    can fail once per dtype); ``failed_checks`` the names of the checks.
    """

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.failures: tuple[tuple[str, str], ...] = tuple(failures)

    @property
    def failed_checks(self) -> frozenset[str]:
        return frozenset(check for check, _ in self.failures)


@attrs.frozen
class ConformanceReport:
    """The checks that ran (``passed``, in :data:`CHECKS` order) and those skipped, with why."""

    loss_type: str
    passed: tuple[str, ...]
    skipped: dict[str, str]


def check_loss(
    config: Mapping[str, Any],
    make_outputs: OutputsFactory,
    *,
    weight_linear: bool = True,
    skip: Mapping[str, str] | None = None,
    dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.float64),
    seed: int = 0,
) -> ConformanceReport:
    """Check a loss against the protocol; raise :class:`ConformanceError` on failure.

    Args:
        config: a loss config (``type`` may be a class) with ``data_info``,
            or a class that has a ``default_data_info``. Its ``loss_weight``
            and ``interval`` are ignored: the checks set their own.
        make_outputs: returns a fresh outputs dict whose tensors have the
            given dtype; it is called under a fixed seed, so each call gives
            the same values. Tensors that should get gradients must have
            ``requires_grad=True``.
        weight_linear: set False for a loss whose ``loss_weight`` does not
            simply multiply its value (say why in your test); the same as
            ``skip={"weight": ...}``.
        skip: checks not to run, each with the reason (kept in the report).
        dtypes: the floating-point types to check in.
        seed: the seed every evaluation starts from.

    Returns:
        A :class:`ConformanceReport` of the checks that passed and those skipped.

    Example:
        >>> check_loss({"type": "DiscShiftLoss", "data_info": {"pred": "pred"}},
        ...            lambda dtype: {"pred": torch.randn(4, dtype=dtype, requires_grad=True)})
        ... # doctest: +SKIP
    """
    with torch.random.fork_rng(devices=[]):  # the caller's random state is left as it was
        return _run_checks(config, make_outputs, weight_linear, skip, dtypes, seed)


def check_refused(loss_class: type[LossModule], **bad_values: Any) -> None:
    """Check that each bad value of a hyperparameter is refused where it enters.

    For every ``name=value``, ``loss_class(name=value)`` must raise a
    :class:`~ganlosscore.ConfigError` located at ``"<class name>.<name>"``
    (the protocol's rule: a hyperparameter is checked at construction, with
    the place in the message). Raises :class:`ConformanceError` (check
    ``refused``) listing every value accepted or refused elsewhere.

    Example:
        >>> check_refused(LeCamRegularizer, decay=1.0, ema_start=-1)  # doctest: +SKIP
    """
    failures = []
    for name, value in bad_values.items():
        expected = f"{loss_class.__name__}.{name}"
        try:
            loss_class(**{name: value})
        except ConfigError as exc:
            if exc.where != expected:
                failures.append(
                    f"{name}={brief(value)} is refused at {exc.where!r}, not {expected!r}"
                )
        else:
            failures.append(f"{name}={brief(value)} is accepted")
    if failures:
        message = f"{loss_class.__name__}: " + "; ".join(failures)
        raise ConformanceError(message, [("refused", failure) for failure in failures])


def _run_checks(
    config: Mapping[str, Any],
    make_outputs: OutputsFactory,
    weight_linear: bool,
    skip: Mapping[str, str] | None,
    dtypes: tuple[torch.dtype, ...],
    seed: int,
) -> ConformanceReport:
    skipped: dict[str, str] = dict(skip or {})
    unknown = sorted(set(skipped) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check(s) {unknown} in skip; the checks are {list(CHECKS)}")
    if not weight_linear:
        skipped.setdefault("weight", "weight_linear=False")
    base = {k: v for k, v in config.items() if k not in ("interval", "loss_weight")}
    label = str(getattr(base.get("type"), "__name__", base.get("type")))
    try:
        probe = build_loss(dict(base))
    except Exception as exc:
        raise ConformanceError(
            f"{label} cannot be built from {dict(config)!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if probe.data_info is None:
        raise ConformanceError(
            f"check_loss needs a config with data_info (the loss is called with an outputs "
            f"dict); {label} has no default_data_info"
        )

    failures: list[tuple[str, str]] = []
    passed: set[str] = set()

    def run(
        name: str, dtype: torch.dtype | None, check: Callable[..., str | None], *args: Any
    ) -> None:
        if name in skipped:
            return
        try:
            reason = check(*args)
        except Exception as exc:
            where = name if dtype is None else f"{name}, {_dtype_name(dtype)}"
            detail = str(exc) if isinstance(exc, ConformanceError) else _raised(exc)
            failures.append((name, f"[{where}] {detail}"))
            return
        if reason:
            skipped[name] = reason
        else:
            passed.add(name)

    def evaluate(cfg: Mapping[str, Any], dtype: torch.dtype, **extra: Any) -> Any:
        loss = build_loss(dict(cfg))
        outputs = {**_fresh(make_outputs, dtype, seed), **extra}
        torch.manual_seed(seed)
        return loss(outputs)

    run("naming", None, _check_naming, base)
    for dtype in dtypes:
        try:
            reference = _value(evaluate(base, dtype), "the loss")
        except Exception as exc:  # nothing to compare with in this dtype
            detail = str(exc) if isinstance(exc, ConformanceError) else _raised(exc)
            failures.append(("finite", f"[finite, {_dtype_name(dtype)}] {detail}"))
            continue
        run("finite", dtype, _check_finite, reference, dtype)
        run("rebuild", dtype, _check_rebuild, base, evaluate, dtype, reference)
        run("weight", dtype, _check_weight, base, evaluate, dtype, reference)
        run("direct", dtype, _check_direct, base, make_outputs, dtype, seed, reference)
        run("gradients", dtype, _check_gradients, base, make_outputs, dtype, seed)
        run("interval", dtype, _check_interval, base, evaluate, dtype)
        run("state_dict", dtype, _check_state_dict, base, make_outputs, dtype, seed)
    if failures:
        raise ConformanceError(
            f"{label} fails the protocol:\n" + "\n".join(message for _, message in failures),
            failures,
        )
    return ConformanceReport(
        label, tuple(c for c in CHECKS if c in passed and c not in skipped), skipped
    )


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _raised(exc: BaseException) -> str:
    return f"raised {type(exc).__name__}: {exc}"


def _fresh(make_outputs: OutputsFactory, dtype: torch.dtype, seed: int) -> Mapping[str, Any]:
    """Outputs drawn under a fixed seed, so every evaluation sees the same inputs."""
    torch.manual_seed(seed)
    return make_outputs(dtype)


def _value(value: Any, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ConformanceError(f"{what} returned {type(value).__name__}, expected a tensor")
    return value.detach()


def _check_naming(base: Mapping[str, Any]) -> None:
    loss = build_loss(dict(base))
    name = loss.loss_name()
    if not (isinstance(name, str) and name.startswith("loss_")):
        raise ConformanceError(f"loss_name() is {name!r}; it must start with 'loss_'")
    renamed = build_loss({**base, "loss_name": "loss_conformance"}).loss_name()
    if renamed != "loss_conformance":
        raise ConformanceError(
            f"loss_name='loss_conformance' gave loss_name() {renamed!r}; "
            "the loss_name keyword must override the class default"
        )


def _check_finite(value: torch.Tensor, dtype: torch.dtype) -> None:
    if not value.is_floating_point():
        raise ConformanceError(f"the value has dtype {value.dtype}, not a floating type")
    if value.dtype != dtype:
        raise ConformanceError(f"inputs of dtype {dtype} gave a value of dtype {value.dtype}")
    if not bool(torch.isfinite(value).all()):
        raise ConformanceError(f"the value is not finite: {value}")


def _close(value: Any, expected: torch.Tensor, what: str) -> None:
    got = _value(value, what)
    if got.shape != expected.shape or not torch.allclose(got, expected, rtol=1e-5, atol=1e-6):
        raise ConformanceError(f"{what} gave {got}, expected {expected}")


def _check_rebuild(
    base: Mapping[str, Any], evaluate: Callable[..., Any], dtype: torch.dtype, reference: Any
) -> None:
    _close(evaluate(base, dtype), reference, "a second build from the same config")


def _check_weight(
    base: Mapping[str, Any], evaluate: Callable[..., Any], dtype: torch.dtype, reference: Any
) -> None:
    weighted = evaluate({**base, "loss_weight": WEIGHT}, dtype)
    _close(weighted, WEIGHT * reference, f"loss_weight={WEIGHT} (expected {WEIGHT} x the value)")


def _check_direct(
    base: Mapping[str, Any],
    make_outputs: OutputsFactory,
    dtype: torch.dtype,
    seed: int,
    reference: torch.Tensor,
) -> str | None:
    via_outputs = build_loss(dict(base))
    assert via_outputs.data_info is not None
    outputs = _fresh(make_outputs, dtype, seed)
    torch.manual_seed(seed)
    _close(via_outputs(outputs_dict=outputs), reference, "loss(outputs_dict=outputs)")
    direct = build_loss({**base, "data_info": False})
    if direct.data_info is not None:
        return "data_info=False still gives the loss a data_info, so it has no direct form"
    outputs = _fresh(make_outputs, dtype, seed)
    inputs = {arg: outputs[key] for arg, key in via_outputs.data_info.items()}
    torch.manual_seed(seed)
    _close(direct(**inputs), reference, f"the direct call loss({', '.join(inputs)})")
    return None


def _check_gradients(
    base: Mapping[str, Any], make_outputs: OutputsFactory, dtype: torch.dtype, seed: int
) -> str | None:
    loss = build_loss(dict(base))
    outputs = _fresh(make_outputs, dtype, seed)
    assert loss.data_info is not None
    tensors: list[tuple[str, torch.Tensor]] = []
    modules: dict[str, list[torch.Tensor]] = {}
    for arg, key in loss.data_info.items():
        item = outputs.get(key)
        if isinstance(item, torch.nn.Module):
            trainable: list[torch.Tensor] = [p for p in item.parameters() if p.requires_grad]
            if trainable:
                modules[arg] = trainable
        else:
            tensors += [(path, t) for path, t in _tensors(arg, item) if t.requires_grad]
    if not tensors and not modules:
        return "no input requires grad"
    torch.manual_seed(seed)
    value = loss(outputs)
    if not isinstance(value, torch.Tensor) or not value.requires_grad:
        raise ConformanceError(
            "inputs require grad but the value does not: the graph is cut "
            "(a detach, .item(), or a computation outside torch)"
        )
    wrt = [t for _, t in tensors] + [p for params in modules.values() for p in params]
    grads = torch.autograd.grad(value.sum(), wrt, allow_unused=True)
    problems = []
    for (path, _), grad in zip(tensors, grads):
        if grad is None:
            problems.append(f"input {path!r} received no gradient")
        elif not bool(torch.isfinite(grad).all()):
            problems.append(f"input {path!r} received a non-finite gradient")
    offset = len(tensors)
    for arg, params in modules.items():
        module_grads = grads[offset : offset + len(params)]
        offset += len(params)
        if all(g is None for g in module_grads):
            problems.append(f"no parameter of module input {arg!r} received a gradient")
        elif not all(g is None or bool(torch.isfinite(g).all()) for g in module_grads):
            problems.append(f"a parameter of module input {arg!r} received a non-finite gradient")
    if problems:
        raise ConformanceError("; ".join(problems))
    return None


def _tensors(path: str, item: Any) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor in an input, looking into lists, tuples and dicts (feature pyramids)."""
    if isinstance(item, torch.Tensor):
        yield path, item
    elif isinstance(item, (list, tuple)):
        for index, sub in enumerate(item):
            yield from _tensors(f"{path}[{index}]", sub)
    elif isinstance(item, Mapping):
        for key, sub in item.items():
            yield from _tensors(f"{path}[{key!r}]", sub)


def _check_interval(
    base: Mapping[str, Any], evaluate: Callable[..., Any], dtype: torch.dtype
) -> None:
    lazy = {**base, "interval": 2}
    off = evaluate(lazy, dtype, iteration=1)
    if off is not None:
        raise ConformanceError(f"interval=2 at iteration 1 returned {off}, expected None")
    on = evaluate(lazy, dtype, iteration=2)
    if not isinstance(on, torch.Tensor):
        raise ConformanceError(f"interval=2 at iteration 2 returned {on!r}, expected a tensor")
    every_step = _value(evaluate(base, dtype, iteration=2), "the loss at iteration 2")
    _close(on, every_step, "interval=2 at iteration 2")


def _check_state_dict(
    base: Mapping[str, Any], make_outputs: OutputsFactory, dtype: torch.dtype, seed: int
) -> None:
    first: LossModule = build_loss(dict(base))
    torch.manual_seed(seed)
    first(_fresh(make_outputs, dtype, seed))  # a step, so running statistics move
    second: LossModule = build_loss(dict(base))
    state = first.state_dict()
    second.load_state_dict(state)
    torch.manual_seed(seed)
    a = first(_fresh(make_outputs, dtype, seed))
    torch.manual_seed(seed)
    b = second(_fresh(make_outputs, dtype, seed))
    _close(
        b,
        _value(a, "the loss"),
        "a loss loaded from the state_dict of one that took a step (is all its state "
        "in buffers or parameters?)",
    )
