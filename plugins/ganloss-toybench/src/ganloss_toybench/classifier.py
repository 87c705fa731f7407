"""The digit classifier the image metrics read samples with.

A small CNN (two 3 x 3 convolutions with max-pooling, a 128-unit hidden layer)
trained on the digits' training split (:func:`ganloss_toybench.data.digit_arrays`)
with a fixed seed and recipe, so that every machine measures with the same
kind of classifier, in about five seconds on one CPU core. It reads 97-99 % of
the held-out digits right (:data:`RECIPE` gives 98.9 % with torch 2.13 on
x86-64 CPUs). The trained weights are cached in the user's cache folder
(``$GANLOSS_TOYBENCH_CACHE``, else ``$XDG_CACHE_HOME/ganloss-toybench``, else
``~/.cache/ganloss-toybench``), one file per recipe and torch version; a
missing or unreadable file is trained again, an unwritable folder only costs
the cache.

A stacked image is read channel by channel: its mode is ``100 a + 10 b + c``,
its confidence the smallest of the three, and its feature vector (for the
Fréchet distance) the three channels' 128 hidden units side by side.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .data import digit_arrays

__all__ = [
    "RECIPE",
    "DigitClassifier",
    "DigitReading",
    "cache_dir",
    "held_out_accuracy",
    "load_classifier",
    "read_digits",
    "train_classifier",
]

#: What the weights depend on; part of the cache file's name.
RECIPE = "cnn32-64-128-adam-onecycle3e-3-30ep-b64-seed0-v2"
FEATURES = 128


class DigitClassifier(nn.Module):
    """``(N, 1, 8, 8)`` digits in [-1, 1] to ``(N, 10)`` logits; :meth:`features` ``(N, 128)``."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 2 * 2, FEATURES),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(FEATURES, 10))

    def features(self, x: Tensor) -> Tensor:
        out: Tensor = self.body(x)
        return out

    def forward(self, x: Tensor) -> Tensor:
        logits: Tensor = self.head(self.body(x))
        return logits


def train_classifier(epochs: int = 30, seed: int = 0) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on the training split, the same way every time.

    Adam with a one-cycle learning rate (peak 3e-3), batches of 64, no
    augmentation; the initial weights, the order of the batches and the
    dropout masks all come from ``seed``. The global random state is left as
    it was.
    """
    images, labels = digit_arrays("train")
    batches_per_epoch = -(-len(labels) // 64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DigitClassifier()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=3e-3, total_steps=epochs * batches_per_epoch
        )
        order = torch.Generator().manual_seed(seed)
        model.train()
        for _ in range(epochs):
            permutation = torch.randperm(len(labels), generator=order)
            for start in range(0, len(labels), 64):
                batch = permutation[start : start + 64]
                loss = F.cross_entropy(model(images[batch]), labels[batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                optimizer.step()
                schedule.step()
    model.eval()
    model.requires_grad_(False)
    return model


@torch.no_grad()
def held_out_accuracy(model: DigitClassifier) -> float:
    """The share of the held-out digits (never trained on) that ``model`` reads right."""
    images, labels = digit_arrays("held-out")
    return float((model(images).argmax(dim=1) == labels).double().mean())


def cache_dir() -> Path:
    """Where the trained classifier is kept (see the module docstring)."""
    explicit = os.environ.get("GANLOSS_TOYBENCH_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ganloss-toybench"


def load_classifier(cache: Path | None = None) -> tuple[DigitClassifier, float]:
    """The trained classifier and its held-out accuracy, from the cache or trained now."""
    torch_version = torch.__version__.replace("+", "-")
    path = (cache_dir() if cache is None else cache) / f"digits-{RECIPE}-torch{torch_version}.pt"
    model = DigitClassifier()
    # any file that does not load as our weights (missing, truncated, from elsewhere) is retrained
    with contextlib.suppress(Exception):
        saved = torch.load(path, weights_only=True)
        model.load_state_dict(saved["state_dict"])
        model.eval()
        model.requires_grad_(False)
        return model, float(saved["held_out_accuracy"])
    model = train_classifier()
    accuracy = held_out_accuracy(model)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save({"state_dict": model.state_dict(), "held_out_accuracy": accuracy}, partial)
        partial.replace(path)  # atomic: a concurrent run reads the old file or the new one
    return model, accuracy


@dataclass(frozen=True)
class DigitReading:
    """What the classifier reads in ``N`` images of ``C`` stacked digits.

    Attributes:
        modes: ``(N,)``, the digits as one number, ``sum_c digit_c 10 ** (C - 1 - c)``.
        confidence: ``(N,)``, the smallest softmax probability of the channels' digits.
        features: ``(N, 128 C)``, the channels' hidden units side by side.
    """

    modes: Tensor
    confidence: Tensor
    features: Tensor


@torch.no_grad()
def read_digits(model: DigitClassifier, images: Tensor, batch: int = 8192) -> DigitReading:
    """Read ``images`` ``(N, C, 8, 8)`` channel by channel (in batches of ``batch`` digits).

    Example:
        >>> model = DigitClassifier()
        >>> reading = read_digits(model, torch.zeros(4, 3, 8, 8))
        >>> reading.modes.shape, reading.features.shape
        (torch.Size([4]), torch.Size([4, 384]))
    """
    n, channels = images.shape[:2]
    digits = images.reshape(n * channels, 1, *images.shape[-2:]).float()
    features = torch.cat(
        [model.features(digits[i : i + batch]) for i in range(0, len(digits), batch)]
    )
    probabilities = model.head(features).softmax(dim=1)
    confidence, labels = probabilities.max(dim=1)
    digit_value = 10 ** torch.arange(channels - 1, -1, -1)
    return DigitReading(
        modes=(labels.reshape(n, channels) * digit_value).sum(dim=1),
        confidence=confidence.reshape(n, channels).min(dim=1).values,
        features=features.reshape(n, channels * FEATURES).double(),
    )
