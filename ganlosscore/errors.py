"""The errors a user can cause, built in one place.

Every error says *what* was wrong, *where* (a loss name, a config path such as
``disc[2].data_info.pred``, a key) and *what would be right*. Messages are
assembled here so that wording stays consistent across the core and plugins.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "CallSignatureError",
    "ConfigError",
    "DataInfoError",
    "DistributedMismatchError",
    "GanLossError",
    "IncompatiblePluginError",
    "LossConflictError",
    "LossInputError",
    "NonFiniteLossError",
    "PluginLoadError",
    "UnknownLossError",
    "closest",
    "did_you_mean",
]


class GanLossError(Exception):
    """Base class of every error ganlosscore raises because of user input.

    ``where`` is the place in a config (``disc[2].data_info.pred``) or the
    loss the error is about; :meth:`at` prefixes it as the error travels up
    through the builders, so the final message names the full path.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(self._render())

    def _render(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def at(self, prefix: str) -> GanLossError:
        """Return this error with ``prefix`` prepended to its location."""
        if not prefix:
            return self
        if self.where is None:
            self.where = prefix
        elif self.where.startswith("["):
            self.where = prefix + self.where
        else:
            self.where = f"{prefix}.{self.where}"
        self.args = (self._render(),)
        return self

    def __str__(self) -> str:
        return self._render()


class ConfigError(GanLossError, ValueError):
    """A loss or aggregator config is invalid (unknown key, bad value, bad file)."""


class DataInfoError(GanLossError, KeyError):
    """A ``data_info`` entry points at a key the outputs dict does not hold."""

    # KeyError's __str__ quotes its argument; keep our readable message.
    __str__ = GanLossError.__str__


class UnknownLossError(ConfigError, LookupError):
    """A config names a loss ``type`` no installed or registered package offers."""


class LossConflictError(GanLossError, LookupError):
    """Two sources offer the same loss name and the config did not say which."""


class PluginLoadError(GanLossError, ImportError):
    """An installed plugin could not be imported or does not offer a loss class."""


class IncompatiblePluginError(PluginLoadError):
    """A plugin was built for a loss protocol this core does not implement."""


class NonFiniteLossError(GanLossError, FloatingPointError):
    """A loss value was NaN or infinite under the aggregator's ``raise`` policy."""


class DistributedMismatchError(GanLossError, RuntimeError):
    """Ranks disagree about the set of logged values, so they cannot be averaged."""


class CallSignatureError(GanLossError, TypeError):
    """A loss module was called in a shape it does not accept."""


class LossInputError(GanLossError, ValueError):
    """A loss received inputs it cannot use (shapes that do not broadcast, a bad mode)."""


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` or an empty string, ready to append to a message."""
    match = closest(word, candidates)
    return f" Did you mean {match!r}?" if match else ""
