"""Running statistics that stay in full precision when their module is cast to half."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor

__all__ = ["FullPrecisionBuffers"]


class FullPrecisionBuffers(torch.nn.Module):
    """An ``nn.Module`` whose running averages ignore a cast to ``float16`` / ``bfloat16``.

    ``model.half()`` or ``model.to(torch.bfloat16)`` casts every floating-point
    buffer of every submodule, so a loss held by the model would keep its
    exponential moving averages in half precision, where a step of
    ``(1 - decay) * gap`` is often below half a spacing of the average and is
    lost (in ``bfloat16``, 1.0 + 0.005 rounds to 1.0). The buffers named in
    :attr:`full_precision_buffers` follow every device move and every cast to
    ``float32`` or ``float64``, but keep their values and precision when the
    cast would narrow them. (``torch.autocast`` casts no buffers; this is for
    models trained wholly in half precision.)
    """

    #: Names of the buffers kept in at least ``float32``.
    full_precision_buffers: ClassVar[tuple[str, ...]] = ()

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Any:
        before = {name: self._buffers[name] for name in self.full_precision_buffers}
        result = super()._apply(fn, recurse)  # type: ignore[no-untyped-call]
        for name, old in before.items():
            new = self._buffers[name]
            if old is None or new is None or not old.is_floating_point():
                continue
            if (
                new.is_floating_point()
                and torch.finfo(new.dtype).bits < 32 <= torch.finfo(old.dtype).bits
            ):
                # the old values, unrounded, on the new device
                self._buffers[name] = old.to(device=new.device)
        return result
