"""GPU first: no value read on the host, nothing made on the CPU, one graph under compile.

On a GPU, ``.item()``, ``float(t)``, ``if t:`` or ``nonzero`` wait for every queued
kernel; the label checks read dtypes and shapes only. A ``TorchFunctionMode`` counts the
tensor calls that would read a value, and the ``meta`` device (tensors without data) stands
in for a GPU: a tensor made on the CPU inside a loss, or a value read back, fails there.
"""

from __future__ import annotations

import pytest
import torch
from _conditional_cases import CASES, outputs
from torch.overrides import TorchFunctionMode

from ganlosscore import build_loss

SYNCING = {"item", "tolist", "__float__", "__bool__", "__int__", "__index__", "nonzero"}


class SyncCounter(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in SYNCING:
            self.calls.append(func.__name__)
        return func(*args, **(kwargs or {}))


def build(name: str):
    return build_loss({"type": name.split("-")[0], **CASES[name]})


@pytest.mark.parametrize("name", list(CASES))
def test_forward_and_backward_read_nothing_on_the_host(name):
    loss, batch = build(name), outputs(torch.float32)
    with SyncCounter() as counter:
        loss(batch).backward()
    assert counter.calls == []


@pytest.mark.parametrize("name", list(CASES))
def test_runs_on_the_meta_device(name):
    batch = {
        key: value.detach().to("meta").requires_grad_(value.requires_grad)
        for key, value in outputs(torch.float32).items()
    }
    value = build(name)(batch)
    assert value.device.type == "meta" and value.shape == ()


def test_the_counter_sees_a_host_read():
    with SyncCounter() as counter:
        bool(torch.ones(2).sum() > 0)
        torch.zeros(1).item()
    assert counter.calls == ["__bool__", "item"]


@pytest.mark.parametrize("name", list(CASES))
def test_traces_whole_under_torch_compile(name):
    # fullgraph=True: no graph break, so a compiled training step keeps the loss in its graph.
    loss, batch = build(name), outputs(torch.float32)
    compiled = torch.compile(loss, backend="eager", fullgraph=True)
    try:
        torch.testing.assert_close(compiled(batch), loss(batch))
    finally:
        torch.compiler.reset()
