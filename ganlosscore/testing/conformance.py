"""The conformance kit: does a loss class keep the protocol?

``check_loss(config, make_outputs)`` builds the loss from ``config`` several
times, feeds it fresh outputs from ``make_outputs(dtype)`` and checks, in
float32 and float64:

* ``naming``: ``loss_name()`` starts with ``loss_``, and ``loss_name=`` overrides it;
* ``finite``: the value is a finite floating-point tensor of the input dtype;
* ``rebuild``: two losses built from the same config give the same value;
* ``weight``: ``loss_weight=2.5`` gives 2.5 times the value (``weight_linear``);
* ``direct``: the ``data_info`` path equals calling the loss with its inputs;
* ``gradients``: every leaf tensor input that requires grad, and every module
  input with parameters, receives a finite gradient;
* ``interval``: with ``interval=2`` the loss returns ``None`` at iteration 1
  and a value at iteration 2;
* ``state_dict``: a loss loaded from another's ``state_dict`` (after a step)
  gives the same value.

Every evaluation re-seeds torch, so losses that draw random numbers (gradient
penalty interpolation, noise) are compared on the same draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import torch

from ..config import build_loss
from ..protocol import LossModule

__all__ = ["CHECKS", "ConformanceError", "ConformanceReport", "check_loss"]

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


class ConformanceError(AssertionError):
    """A loss broke the protocol; the message lists every failed check."""


@attrs.frozen
class ConformanceReport:
    """The checks that ran (``passed``) and those skipped, with the reason."""

    loss_type: str
    passed: tuple[str, ...]
    skipped: dict[str, str]


def check_loss(
    config: Mapping[str, Any],
    make_outputs: OutputsFactory,
    *,
    weight_linear: bool = True,
    dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.float64),
    seed: int = 0,
) -> ConformanceReport:
    """Check a loss against the protocol; raise :class:`ConformanceError` on failure.

    Args:
        config: a loss config with ``data_info`` (``type`` may be a class).
        make_outputs: returns a fresh outputs dict (called under a fixed seed) whose tensors have the
            given dtype; leaf tensors that should get gradients must have
            ``requires_grad=True``.
        weight_linear: set False for a loss whose ``loss_weight`` does not
            simply multiply its value (say why in your test).
    """
    if "data_info" not in config or config["data_info"] is None:
        raise ConformanceError("check_loss needs a config with data_info")
    base = {k: v for k, v in config.items() if k not in ("interval", "loss_weight")}
    label = str(getattr(base["type"], "__name__", base["type"]))
    failures: list[str] = []
    passed: set[str] = set()
    skipped: dict[str, str] = {}

    def run(name: str, check: Callable[..., str | None], *args: Any) -> None:
        try:
            reason = check(*args)
        except ConformanceError as exc:
            failures.append(f"[{name}] {exc}")
            return
        except Exception as exc:
            failures.append(f"[{name}] raised {type(exc).__name__}: {exc}")
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

    run("naming", _check_naming, base)
    for dtype in dtypes:
        reference = _value(evaluate(base, dtype), "the loss", dtype)
        run("finite", _check_finite, reference, dtype)
        run("rebuild", _close, evaluate(base, dtype), reference, "a second build")
        if weight_linear:
            weighted = evaluate({**base, "loss_weight": 2.5}, dtype)
            run("weight", _close, weighted, 2.5 * reference, "loss_weight=2.5")
        else:
            skipped["weight"] = "weight_linear=False"
        run("direct", _check_direct, base, make_outputs, dtype, seed, reference)
        run("gradients", _check_gradients, base, make_outputs, dtype, seed)
        run("interval", _check_interval, base, evaluate, dtype)
        run("state_dict", _check_state_dict, base, make_outputs, dtype, seed)
    if failures:
        raise ConformanceError(f"{label} fails the protocol:\n" + "\n".join(failures))
    return ConformanceReport(label, tuple(c for c in CHECKS if c in passed), skipped)


def _fresh(make_outputs: OutputsFactory, dtype: torch.dtype, seed: int) -> Mapping[str, Any]:
    """Outputs drawn under a fixed seed, so every evaluation sees the same inputs."""
    torch.manual_seed(seed)
    return make_outputs(dtype)


def _value(value: Any, what: str, dtype: torch.dtype) -> torch.Tensor:
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
        raise ConformanceError(f"loss_name='loss_conformance' gave loss_name() {renamed!r}")


def _check_finite(value: torch.Tensor, dtype: torch.dtype) -> None:
    if not value.is_floating_point():
        raise ConformanceError(f"the value has dtype {value.dtype}, not a floating type")
    if value.dtype != dtype:
        raise ConformanceError(f"inputs of dtype {dtype} gave a value of dtype {value.dtype}")
    if not bool(torch.isfinite(value).all()):
        raise ConformanceError(f"the value is not finite: {value}")


def _close(value: Any, expected: torch.Tensor, what: str) -> None:
    got = _value(value, what, expected.dtype)
    if got.shape != expected.shape or not torch.allclose(got, expected, rtol=1e-5, atol=1e-6):
        raise ConformanceError(f"{what} gave {got}, expected {expected}")


def _check_direct(
    base: Mapping[str, Any],
    make_outputs: OutputsFactory,
    dtype: torch.dtype,
    seed: int,
    reference: torch.Tensor,
) -> str | None:
    via_outputs = build_loss(dict(base))
    assert via_outputs.data_info is not None
    direct = build_loss({k: v for k, v in base.items() if k != "data_info"})
    if direct.data_info is not None:
        return "the class fills in a default data_info, so it has no direct form to compare"
    outputs = _fresh(make_outputs, dtype, seed)
    inputs = {arg: outputs[key] for arg, key in via_outputs.data_info.items()}
    torch.manual_seed(seed)
    _close(direct(**inputs), reference, "the direct call loss(**inputs)")
    return None


def _check_gradients(
    base: Mapping[str, Any], make_outputs: OutputsFactory, dtype: torch.dtype, seed: int
) -> str | None:
    loss = build_loss(dict(base))
    outputs = _fresh(make_outputs, dtype, seed)
    assert loss.data_info is not None
    used = {arg: outputs[key] for arg, key in loss.data_info.items()}
    torch.manual_seed(seed)
    value = loss(outputs)
    if not isinstance(value, torch.Tensor) or not value.requires_grad:
        if any(isinstance(v, torch.Tensor) and v.requires_grad for v in used.values()):
            raise ConformanceError("inputs require grad but the value does not")
        return "no input requires grad"
    value.sum().backward()
    for arg, item in used.items():
        if isinstance(item, torch.Tensor) and item.requires_grad and item.is_leaf:
            if item.grad is None or not bool(torch.isfinite(item.grad).all()):
                raise ConformanceError(f"input {arg!r} received no finite gradient")
        elif isinstance(item, torch.nn.Module):
            params = [p for p in item.parameters() if p.requires_grad]
            if params and all(p.grad is None for p in params):
                raise ConformanceError(f"no parameter of module input {arg!r} received a gradient")
    return None


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


def _check_state_dict(
    base: Mapping[str, Any], make_outputs: OutputsFactory, dtype: torch.dtype, seed: int
) -> None:
    first: LossModule = build_loss(dict(base))
    torch.manual_seed(seed)
    first(_fresh(make_outputs, dtype, seed))  # a step, so running statistics move
    second: LossModule = build_loss(dict(base))
    state = first.state_dict()
    second.load_state_dict(state)
    if set(second.state_dict()) != set(state):
        raise ConformanceError("state_dict keys differ after a round trip")
    torch.manual_seed(seed)
    a = first(_fresh(make_outputs, dtype, seed))
    torch.manual_seed(seed)
    b = second(_fresh(make_outputs, dtype, seed))
    _close(b, _value(a, "the loss", dtype), "a loss loaded from the state_dict")
