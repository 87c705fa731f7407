"""The errors a user can cause, built in one place.

Every error says *what* was wrong, *where* (a loss name, a config path such as
``disc[2].PairLoss.data_info.pred``, a key, the config file) and *what would be
right*. Messages are
assembled here so that wording stays consistent across the core and plugins.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Sequence

__all__ = [
    "BrokenDistributionWarning",
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
    "brief",
    "closest",
    "describe_exception",
    "did_you_mean",
    "several",
]


class GanLossError(Exception):
    """Base class of every error ganlosscore raises because of user input.

    ``where`` is the place in a config (``disc[2].PairLoss.data_info.pred``)
    or the loss the error is about; :meth:`at` prefixes it as the error
    travels up through the builders, so the final message names the full
    path. ``file`` is the config file, when one is involved; :meth:`in_file`
    sets it. The message then reads ``file: where: message``, e.g.
    ``gan.toml: disc[0].DiscAdversarialLoss.gan_type: unknown gan_type 'nss'``.

    An error that stands for several problems (see :func:`several`) keeps
    them in ``problems``, each with its own place, and lists them one per line.
    """

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        file: str | None = None,
        problems: Iterable[GanLossError] = (),
    ) -> None:
        self.summary = message
        self.where = where
        self.file = file
        self.problems: tuple[GanLossError, ...] = tuple(problems)
        self.message = self._message()
        super().__init__(self._render())

    def _message(self) -> str:
        return self.summary + "".join(f"\n  - {p}" for p in self.problems)

    def _render(self) -> str:
        location = ": ".join(part for part in (self.file, self.where) if part)
        return f"{location}: {self.message}" if location else self.message

    def _refresh(self) -> GanLossError:
        self.message = self._message()
        self.args = (self._render(),)
        return self

    def at(self, prefix: str) -> GanLossError:
        """Return this error with ``prefix`` prepended to its location in the config.

        ``"disc[0]"`` before ``"PairLoss.scale"`` gives ``disc[0].PairLoss.scale``,
        before ``"[2]"`` gives ``disc[0][2]``. An error of several problems
        prefixes each of them. The file, if any, stays in front.
        """
        if not prefix:
            return self
        for problem in self.problems:
            problem.at(prefix)
        if self.problems:
            return self._refresh()
        if self.where is None:
            self.where = prefix
        elif self.where.startswith("["):
            self.where = prefix + self.where
        else:
            self.where = f"{prefix}.{self.where}"
        return self._refresh()

    def in_file(self, path: object) -> GanLossError:
        """Return this error as found in the config file ``path`` (kept if already set)."""
        if self.file is None:
            self.file = str(path)
        return self._refresh()

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


class NotALossError(GanLossError, TypeError):
    """Something offered as a loss class is not one the protocol can use.

    Raised by ``register_loss`` for a non-class or a class that is not a
    :class:`~ganlosscore.LossModule`, at class definition for a ``compute``
    whose inputs cannot be named in ``data_info``, and at construction of a
    subclass that defines no ``compute``.
    """


class PluginSelectionWarning(UserWarning):
    """``GANLOSS_PLUGINS`` or ``GANLOSS_DISABLE_PLUGINS`` names no installed plugin distribution."""


class BrokenDistributionWarning(UserWarning):
    """A distribution that may offer plugins has metadata that cannot be read; it is skipped."""


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` or an empty string, ready to append to a message."""
    match = closest(word, candidates)
    return f" Did you mean {match!r}?" if match else ""


def describe_exception(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` for an exception a plugin raised, its message cut to ``limit``.

    ``sys.exit(code)`` reads ``SystemExit: it called sys.exit(code)``.
    """
    if isinstance(exc, SystemExit):
        return f"SystemExit: it called sys.exit({brief(exc.code)})"
    text = str(exc)
    return f"{type(exc).__name__}: {text if len(text) <= limit else text[: limit - 3] + '...'}"


def several(problems: Sequence[GanLossError], what: str) -> GanLossError:
    """One error for ``problems``: the problem itself if there is one, else a
    :class:`ConfigError` listing them, ``N problems in {what}:``, one per line.

    Builders collect every problem before raising, so that a user fixes a
    config in one pass; the individual errors stay in ``error.problems``.
    """
    if len(problems) == 1:
        return problems[0]
    flat = [p for problem in problems for p in (problem.problems or (problem,))]
    return ConfigError(f"{len(flat)} problems in {what}:", problems=flat)


def brief(value: object, limit: int = 80) -> str:
    """A ``repr`` of ``value`` for a message, bounded in size *while* it is rendered.

    ``f"{value!r}"`` renders a value whole before anything could shorten it;
    a YAML file of nested aliases (a "billion laughs") then costs unbounded
    memory and time. :mod:`reprlib` stops at a fixed depth and length, so this
    costs the same for any value, and the result is cut to ``limit`` characters.
    """
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bounded_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxlevel = 3
    r.maxstring = r.maxother = r.maxlong = 60
    r.maxdict = r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdeque = 6
    return r


_REPR = _bounded_repr()
