"""Differentiable input gradients, with optional loss scaling for mixed precision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

import torch
import torch.distributed as dist
from torch import Tensor

from ganlosscore import ConfigError, LossInputError
from ganlosscore.checks import check_bool

__all__ = ["LossScaler", "check_no_apex", "gradient_at", "graph_break", "input_gradient"]

_F = TypeVar("_F", bound=Callable[..., Any])


def graph_break(fn: _F) -> _F:
    """``torch.compiler.disable``, typed: ``fn`` runs outside a compiled graph.

    For the functions that call a network and take its input gradient with
    ``create_graph=True`` (see :func:`input_gradient`).
    """
    return cast(_F, torch.compiler.disable(fn))  # type: ignore[no-untyped-call]


@runtime_checkable
class LossScaler(Protocol):
    """What a regularizer needs of a loss scaler: ``torch.amp.GradScaler`` fits.

    ``scale(t)`` multiplies ``t`` by the current scale (the identity when the
    scaler is disabled) and ``get_scale()`` returns that scale (``1.0`` when
    disabled).
    """

    def scale(self, outputs: Tensor) -> Tensor: ...

    def get_scale(self) -> float: ...


def check_no_apex(value: Any, *, where: str) -> None:
    """MMGeneration's ``use_apex_amp``: ``False`` builds, ``True`` says what replaces apex."""
    if check_bool(value, where=where):
        raise ConfigError(
            "NVIDIA apex is not supported, so use_apex_amp must be False (it is accepted "
            "only so MMGeneration configs work unchanged). For mixed precision, put a "
            "torch.amp.GradScaler in the outputs dict and map it to this loss's "
            "'loss_scaler' input, e.g. data_info={..., 'loss_scaler': 'loss_scaler'} "
            "(or pass loss_scaler=scaler when calling the loss directly)",
            where=where,
        )


def input_gradient(
    output: Tensor,
    inputs: Tensor,
    *,
    network: Any = None,
    loss_scaler: LossScaler | None = None,
    where: str = "input_gradient",
) -> Tensor:
    """``d sum(output) / d inputs``, kept in the graph (``create_graph=True``).

    The result is differentiable with respect to everything ``output`` depends
    on (a discriminator's parameters, say), so a penalty built on it can be
    back-propagated. With a ``loss_scaler`` the output is scaled before
    differentiation, ``scaler.scale(output)``, so fp16 gradients do not
    underflow, and the gradient is unscaled after, ``/ scaler.get_scale()``;
    a disabled scaler changes nothing.

    The gradient comes back in at least ``float32``: for ``float16`` /
    ``bfloat16`` inputs it is upcast before it is unscaled, so that the small
    values the scaling protected (and their squares, in a penalty) do not
    underflow again.

    Under ``torch.compile`` the penalty losses run this, and the network call
    that produces ``output``, outside the compiled graph (their ``compute`` is
    ``torch.compiler.disable``-d: a graph break): compiled autograd does not
    differentiate a compiled graph twice, as ``create_graph=True`` needs.

    Input: ``output`` of any shape, computed from ``inputs`` of shape ``(N, *)``.
    Output: the shape of ``inputs``, in ``inputs``' dtype or ``float32`` if narrower.
    """
    if not output.requires_grad:
        raise LossInputError(
            "the network's output does not depend on its input through autograd; "
            "a gradient penalty cannot be computed under torch.no_grad() or with a "
            "network that detaches its input",
            where=where,
        )
    if loss_scaler is not None:
        output = loss_scaler.scale(output)
    (grad,) = torch.autograd.grad(
        outputs=output,
        inputs=inputs,
        grad_outputs=torch.ones_like(output),
        create_graph=True,
        retain_graph=True,
        allow_unused=True,
    )
    if network is not None:
        regather_sharded(network)
    if grad is None:  # a zero penalty here would hide a broken setup
        raise LossInputError(
            "the network's output does not depend on the input being penalised (a network "
            "that detaches its input, or a generator whose returned latent is not what the "
            "images were made from), so the penalty would be a silent constant; pass the "
            "network and the tensor it is actually computed from",
            where=where,
        )
    if grad.dtype in _HALF:  # float32/float64 gradients pass untouched
        grad = grad.float()
    if loss_scaler is not None:
        grad = grad / loss_scaler.get_scale()
    return grad


def gradient_at(
    discriminator: Any, points: Tensor, *, loss_scaler: LossScaler | None = None, where: str
) -> Tensor:
    """``d sum(D(points)) / d points``, kept in the graph (see :func:`input_gradient`).

    Points that require grad are used as they are, so they stay in the caller's
    graph and the penalty's gradient reaches them (a non-detached ``fake_data``
    passes it on to the generator). Other points become
    ``points.detach().requires_grad_()``, a new leaf on the same storage: the
    caller's tensor is left untouched and no batch-sized copy is made.

    Input: ``points`` ``(N, *)``. Output: the same shape, in at least ``float32``.

    Example:
        >>> x = torch.tensor([[1.0, 2.0]])
        >>> gradient_at(lambda p: 0.5 * (p**2).sum(), x, where="doc"), x.requires_grad
        (tensor([[1., 2.]], grad_fn=<MulBackward0>), False)
    """
    points = points if points.requires_grad else points.detach().requires_grad_()
    return input_gradient(
        discriminator(points), points, network=discriminator, loss_scaler=loss_scaler, where=where
    )


_HALF = (torch.float16, torch.bfloat16)


def regather_sharded(network: Any) -> None:
    """Gather the parameters of a network sharded with FSDP2 again, after an input gradient.

    ``fully_shard`` frees a module's gathered parameters when a backward pass
    through it ends, and ``torch.autograd.grad`` is such a pass; the penalty's
    graph (``create_graph=True``) still holds those parameters, so its
    ``backward()`` failed (``setStorage: ... storage of size 0``) or left some
    parameters without a gradient. Gathering them again (the public
    ``FSDPModule.unshard``, a collective every rank makes, as every rank
    computes the penalty) gives the gradients of one process on the whole
    batch. Nothing happens without a process group or for other networks.
    """
    if not (dist.is_available() and dist.is_initialized() and isinstance(network, torch.nn.Module)):
        return
    try:
        from torch.distributed.fsdp import FSDPModule
    except ImportError:  # torch < 2.6: no FSDP2
        return
    for module in network.modules():
        if isinstance(module, FSDPModule):
            module.unshard()
