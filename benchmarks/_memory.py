"""Peak memory of torch tensors on the CPU, counted exactly.

``tracemalloc`` does not see torch's allocations, torch keeps no CPU
allocator statistics, and the process's peak RSS is blurred by the C
allocator's caching. So this counts what the computation itself allocates:
a ``TorchDispatchMode`` sees every ATen operator, forward and backward (the
autograd engine runs backward operators under the same mode, which is how
``torch.utils.flop_counter`` counts backward FLOPs). Each output whose
storage is new, i.e. not an alias of an input (views, in-place and ``out=``
operators return aliases, as their schemas declare), adds its storage's
bytes to the live total; a finalizer on the storage subtracts them when it
is freed. The peak of that total is the answer.

It counts every tensor the step creates: activations saved for backward,
temporaries, gradients (including ``.grad`` of parameters that were
``None`` before). It does not count tensors that existed before (weights,
the batch), nor scratch memory a kernel allocates internally and frees
before returning (e.g. a convolution's workspace), which is the same for
code that calls the same operators.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


class PeakMemory(TorchDispatchMode):
    """``with PeakMemory() as m: ...`` then ``m.peak`` (bytes), ``m.live`` (bytes still held)."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._tracked: dict[int, Any] = {}

    def _freed(self, key: int, nbytes: int) -> None:
        self.live -= nbytes
        self._tracked.pop(key, None)

    def _allocated(self, storage: Any) -> None:
        key = id(storage)
        if key in self._tracked:
            return
        nbytes = storage.nbytes()
        self.live += nbytes
        self.peak = max(self.peak, self.live)
        self._tracked[key] = weakref.finalize(storage, self._freed, key, nbytes)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        returns = func._schema.returns
        if isinstance(out, tuple) and len(returns) > 1:
            pairs = list(zip(returns, out))
        else:
            pairs = [(returns[0], out)] if returns else []
        for declared, value in pairs:
            if declared.alias_info is not None:
                continue  # a view of, or a write into, an existing tensor
            for tensor in tree_flatten(value)[0]:
                if isinstance(tensor, torch.Tensor):
                    self._allocated(tensor.untyped_storage())
        return out
