"""Python config files in MMCV's style (MMGeneration's, MMEngine's), read without running them.

MMGeneration's configs are Python modules that MMCV executes: ``model =
dict(type='StyleGAN2', gan_loss=dict(...))``, arithmetic such as ``10.0 / 2.0
* d_reg_interval``, f-strings, and ``_base_ = [...]`` files merged under the
file. Executing a file is running whatever it holds, so here the file is
parsed with :mod:`ast` and only a safe subset is evaluated:

* literals (strings, numbers, ``True``, ``False``, ``None``), lists, tuples
  and dicts, f-strings of such values;
* arithmetic: ``+ - * / // % **`` and unary ``-``/``+``;
* names assigned earlier in the same file;
* calls of ``dict``, ``list``, ``tuple``, ``min``, ``max``, ``abs``,
  ``round``, ``int``, ``float``, ``str`` and ``bool``;
* ``_base_`` (a path or a list of paths, relative to the file) with MMCV's
  merge rules: a dict in the file is merged key by key into the base's,
  ``_delete_=True`` replaces it instead, anything else replaces the base's
  value, and two bases may not set the same top-level key.

Anything else (an import, an attribute, a subscript, a call of any other
function, a comparison, a lambda, a loop) is a :class:`ConfigError` naming
the file, the line and the construct. The work is bounded, whatever the
file: expressions nest at most :data:`MAX_DEPTH` deep, an integer holds at
most :data:`MAX_INT_BITS` bits (``10 ** 10 ** 9`` is refused before it is
computed), a string at most :data:`MAX_STRING` characters, a file's values
at most :data:`MAX_VALUES` (shared values counted each time they appear),
and all the strings and containers a file makes together at most
:data:`MAX_WORK` units, so no file can take more than a few seconds or a few
hundred megabytes. The file itself is read by :func:`ganlosscore.load_config`
(a regular file of at most 1 MiB).

:func:`loss_sections` finds the loss entries of such a config by their keys
(``gan_loss``, ``disc_auxiliary_loss``, ``gen_auxiliary_loss``,
``pixel_loss``, any ``*_loss``) under ``model``; ``ganloss check`` builds
each.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError, brief, describe_exception

__all__ = ["LOSS_KEYS", "MAX_DEPTH", "MAX_VALUES", "load_py_config", "loss_sections"]

#: How deep expressions, and the values they make, may nest.
MAX_DEPTH = 100
#: The most values (each scalar, list, tuple and dict counts one) a file's result may hold.
MAX_VALUES = 100_000
#: The longest string a file may make, in characters.
MAX_STRING = 100_000
#: The largest integer a file may make, in bits (about 4,200 decimal digits).
MAX_INT_BITS = 14_000
#: Everything a file makes, summed: a string counts its length, a container its items.
MAX_WORK = 10_000_000
#: The most files one config may read, itself and its ``_base_`` files together.
MAX_FILES = 64

#: The functions a config may call, as MMGeneration's configs do.
CALLS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (dict, list, tuple, min, max, abs, round, int, float, str, bool)
}

_SUBSET = (
    "a .py config may hold literals, arithmetic, names assigned earlier in the file, "
    "f-strings, calls of dict(), list(), tuple(), min(), max() and a few conversions, and "
    "_base_ (it is read, never run)"
)

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}

#: What each construct outside the subset is called in an error message.
_CONSTRUCT_KINDS: dict[str, tuple[type[ast.AST], ...]] = {
    "an import": (ast.Import, ast.ImportFrom),
    "a function definition": (ast.FunctionDef, ast.AsyncFunctionDef),
    "a comprehension": (ast.ListComp, ast.DictComp, ast.SetComp),
    "a yield": (ast.Yield, ast.YieldFrom),
    "a loop": (ast.For, ast.AsyncFor, ast.While),
    "a with statement": (ast.With, ast.AsyncWith),
    "an attribute": (ast.Attribute,),
    "a subscript": (ast.Subscript,),
    "a lambda": (ast.Lambda,),
    "a class definition": (ast.ClassDef,),
    "a comparison": (ast.Compare,),
    "a boolean operator (and/or)": (ast.BoolOp,),
    "a conditional expression": (ast.IfExp,),
    "a generator expression": (ast.GeneratorExp,),
    "a set": (ast.Set,),
    "a starred expression": (ast.Starred,),
    "an assignment expression (:=)": (ast.NamedExpr,),
    "an await": (ast.Await,),
    "an if statement": (ast.If,),
    "a try statement": (ast.Try,),
    "a raise statement": (ast.Raise,),
    "an assert": (ast.Assert,),
    "a del statement": (ast.Delete,),
    "an augmented assignment": (ast.AugAssign,),
    "an annotated assignment": (ast.AnnAssign,),
    "a global statement": (ast.Global,),
    "a nonlocal statement": (ast.Nonlocal,),
    "a return statement": (ast.Return,),
    "a pass statement": (ast.Pass,),
    "a break statement": (ast.Break,),
    "a continue statement": (ast.Continue,),
}
_CONSTRUCTS = {kind: text for text, kinds in _CONSTRUCT_KINDS.items() for kind in kinds}

#: Digits in an f-string's format spec (a width or a precision): more would make a huge string.
_MAX_FORMAT_NUMBER = 100


def load_py_config(path: str | Path, *, read_text: Callable[[Path], str]) -> dict[str, Any]:
    """The mapping a MMCV-style ``.py`` config file defines, read without running it.

    ``read_text`` reads one file (the config, then each ``_base_`` file) and
    raises :class:`ConfigError` for a file that cannot be a config;
    :func:`ganlosscore.load_config` passes its own, bounded reader. The
    result holds the file's top-level names (not ``_base_``, nor names that
    start with ``__``) merged over its bases', as MMCV's ``Config.fromfile``
    gives them.
    """
    return _Reader(read_text).read(Path(path), chain=())


class _Reader:
    """Reads one config and its bases, sharing the bounds between them."""

    def __init__(self, read_text: Callable[[Path], str]) -> None:
        self.read_text = read_text
        self.files = 0
        self.work = 0

    def read(self, path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
        file = str(path)
        self.files += 1
        if self.files > MAX_FILES:
            raise ConfigError(
                f"reads more than {MAX_FILES} files through _base_; a config and its bases "
                "are a handful of files: is a base listed many times?",
                file=file,
            )
        text = self.read_text(path)
        try:
            tree = ast.parse(text, filename=file)
        except SyntaxError as exc:
            place = f"line {exc.lineno}, column {exc.offset}: " if exc.lineno else ""
            raise ConfigError(f"{place}not valid Python: {exc.msg}", file=file) from None
        except ValueError as exc:  # a null byte, on Pythons that do not call it a SyntaxError
            raise ConfigError(f"not valid Python: {exc}", file=file) from None
        except (RecursionError, MemoryError) as exc:
            raise ConfigError(
                f"cannot be parsed ({type(exc).__name__}): its expressions nest too deeply "
                f"(a config needs a few levels; at most {MAX_DEPTH} are read)",
                file=file,
            ) from None
        names = _FileEvaluator(self, file, text).run(tree)
        bases = names.pop("_base_", None)
        own = {k: v for k, v in names.items() if not k.startswith("__")}
        if bases is None:
            return own
        merged = self._bases(bases, path, chain)
        return _merge(own, merged, file=file, where="")

    def _bases(self, bases: Any, path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
        file = str(path)

        def refuse(message: str) -> ConfigError:
            return ConfigError(message, file=file, where="_base_")

        listed = [bases] if isinstance(bases, str) else bases
        if not isinstance(listed, (list, tuple)) or not all(isinstance(b, str) for b in listed):
            raise refuse(f"_base_ must be a path or a list of paths (strings), got {brief(bases)}")
        merged: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for name in listed:
            if "::" in name:
                raise refuse(
                    f"_base_ {brief(name)} names a file inside an installed package "
                    "(MMEngine's 'package::path'); copy the file next to the config and name "
                    "it by a relative path"
                )
            base = Path(os.path.normpath(path.parent / name))
            if base.suffix != ".py":
                raise refuse(
                    f"_base_ {brief(name)} is not a .py file; a .py config's bases are .py "
                    "configs too"
                )
            if base in chain or base == Path(os.path.normpath(path)):
                loop = " -> ".join(str(p) for p in (*chain, path, base))
                raise refuse(f"_base_ {brief(name)} includes itself ({loop}); remove the loop")
            try:
                values = self.read(base, (*chain, path))
            except ConfigError as exc:
                if exc.file in (None, file):
                    raise
                raise ConfigError(
                    f"{exc.summary} (a _base_ of {file})",
                    where=exc.where,
                    file=exc.file,
                    problems=exc.problems,
                ) from exc.__cause__
            for key, value in values.items():
                if key in merged:
                    raise refuse(
                        f"two of its _base_ files set {brief(key)}: {origin[key]} and {base}; "
                        "MMCV does not allow that either: set it in one of them"
                    )
                merged[key] = value
                origin[key] = str(base)
        return merged


def _merge(
    child: Mapping[Any, Any], base: Mapping[Any, Any], *, file: str, where: str
) -> dict[Any, Any]:
    """``child`` merged into ``base`` by MMCV's rules (``Config._merge_a_into_b``).

    A dict in the child extends the base's dict of the same key, key by key,
    unless it says ``_delete_=True``: then it replaces it (without the
    ``_delete_`` key, as MMEngine does). Any other value replaces the base's.
    """
    merged = dict(base)
    for key, value in child.items():
        place = f"{where}.{key}" if where else str(key)
        if isinstance(value, dict):
            value = dict(value)
            delete = value.pop("_delete_", False)
            if key in merged and not delete:
                if not isinstance(merged[key], dict):
                    raise ConfigError(
                        f"a dict here cannot extend the base's value, which is "
                        f"{type(merged[key]).__name__} {brief(merged[key])}; add _delete_=True "
                        "to the dict to replace the base's value",
                        file=file,
                        where=place,
                    )
                value = _merge(value, merged[key], file=file, where=place)
        merged[key] = value
    return merged


class _FileEvaluator:
    """Evaluates the statements of one file, in order, within the shared bounds."""

    def __init__(self, reader: _Reader, file: str, text: str) -> None:
        self.reader = reader
        self.file = file
        self.text = text
        self.names: dict[str, Any] = {}
        # id -> (value, expanded size, depth) for every container made; the value is
        # kept so that its id is not reused while the file is read.
        self.shape: dict[int, tuple[Any, int, int]] = {}

    # -- errors ---------------------------------------------------------------------

    def error(self, node: ast.AST, message: str) -> ConfigError:
        line = getattr(node, "lineno", None)
        column = getattr(node, "col_offset", None)
        place = f"line {line}, column {column + 1}: " if line and column is not None else ""
        return ConfigError(f"{place}{message}", file=self.file)

    def outside(self, node: ast.AST) -> ConfigError:
        what = _CONSTRUCTS.get(type(node), f"a {type(node).__name__} node")
        segment = ast.get_source_segment(self.text, node) or ""
        shown = f" {brief(segment.split(chr(10))[0], 60)}" if segment else ""
        return self.error(node, f"{what}{shown} is not read: {_SUBSET}")

    # -- statements -----------------------------------------------------------------

    def run(self, tree: ast.Module) -> dict[str, Any]:
        for statement in tree.body:
            if isinstance(statement, ast.Assign):
                value = self.eval(statement.value, 0)
                for target in statement.targets:
                    if not isinstance(target, ast.Name):
                        raise self.error(
                            target,
                            f"only a name can be assigned ({brief(ast.unparse(target), 60)} "
                            f"is not one): {_SUBSET}",
                        )
                    self.names[target.id] = value
            elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                if not isinstance(statement.value.value, str):
                    raise self.outside(statement)
                # a docstring, or a string used as a comment: nothing to do
            else:
                raise self.outside(statement)
        return self.names

    # -- expressions ----------------------------------------------------------------

    def eval(self, node: ast.expr, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.error(
                node,
                f"expressions nest more than {MAX_DEPTH} levels deep; a config needs a few: "
                "split it into names assigned one after the other",
            )
        depth += 1
        if isinstance(node, ast.Constant):
            value = node.value
            if value is None or isinstance(value, (bool, int, float, str)):
                return self.made(node, value)
            raise self.error(node, f"a {type(value).__name__} literal is not read: {_SUBSET}")
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            if node.id in CALLS:
                raise self.error(node, f"{node.id} may only be called here: {_SUBSET}")
            raise self.error(
                node,
                f"name {brief(node.id)} is not assigned earlier in this file (a .py config "
                "sees only names it assigns itself above their use; no builtins, no imports, "
                "no names of its _base_ files)",
            )
        if isinstance(node, ast.List):
            return self.made(node, [self.eval(e, depth) for e in self.items(node.elts)])
        if isinstance(node, ast.Tuple):
            return self.made(node, tuple(self.eval(e, depth) for e in self.items(node.elts)))
        if isinstance(node, ast.Dict):
            result: dict[Any, Any] = {}
            for key_node, value_node in zip(node.keys, node.values):
                value = self.eval(value_node, depth)
                if key_node is None:  # {**other}
                    result.update(self.mapping(value_node, value, "**"))
                else:
                    result[self.key(key_node, self.eval(key_node, depth))] = value
            return self.made(node, result)
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.UnaryOp):
            operand = self.eval(node.operand, depth)
            if isinstance(node.op, (ast.USub, ast.UAdd)) and isinstance(operand, (int, float)):
                return -operand if isinstance(node.op, ast.USub) else +operand
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                raise self.error(
                    node, f"a sign before {type(operand).__name__} {brief(operand)}, not a number"
                )
            raise self.outside(node)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node, depth)
        raise self.outside(node)

    def items(self, elements: list[ast.expr]) -> list[ast.expr]:
        for element in elements:
            if isinstance(element, ast.Starred):
                raise self.outside(element)
        return elements

    def key(self, node: ast.AST, key: Any) -> Any:
        try:
            hash(key)
        except TypeError:
            raise self.error(
                node, f"a {type(key).__name__} cannot be a dict key: use a string"
            ) from None
        return key

    def mapping(self, node: ast.AST, value: Any, how: str) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise self.error(node, f"{how} needs a dict, got {type(value).__name__} {brief(value)}")
        return value

    def binary(self, node: ast.BinOp, depth: int) -> Any:
        operation = _BINARY.get(type(node.op))
        if operation is None:
            raise self.error(
                node,
                f"the operator {type(node.op).__name__} is not read; {_SUBSET} "
                "(arithmetic is + - * / // % **)",
            )
        left = self.eval(node.left, depth)
        right = self.eval(node.right, depth)
        if isinstance(node.op, ast.Pow):
            self.check_power(node, left, right)
        if isinstance(node.op, ast.Mult):
            self.check_repetition(node, left, right)
        if isinstance(node.op, ast.Add) and isinstance(left, (str, list, tuple)):
            if isinstance(right, type(left)):
                self.check_length(node, len(left) + len(right), left)
        try:
            result = operation(left, right)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise self.error(
                node,
                f"{brief(ast.unparse(node), 60)} cannot be computed: "
                f"{describe_exception(exc, 120)} (the left side is "
                f"{type(left).__name__} {brief(left)}, the right side "
                f"{type(right).__name__} {brief(right)})",
            ) from None
        return self.made(node, result)

    def check_power(self, node: ast.AST, base: Any, exponent: Any) -> None:
        if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
            bits = abs(base).bit_length()
            if bits > 1 and (exponent > MAX_INT_BITS or (bits - 1) * exponent > MAX_INT_BITS):
                raise self.error(
                    node,
                    f"{brief(base)} ** {brief(exponent)} would be an integer of more than "
                    f"{MAX_INT_BITS:,} bits, larger than any setting needs (write a float, "
                    "e.g. 1e300, for a large number)",
                )

    def check_repetition(self, node: ast.AST, left: Any, right: Any) -> None:
        for sequence, count in ((left, right), (right, left)):
            if isinstance(sequence, (str, list, tuple)) and isinstance(count, int):
                self.check_length(node, len(sequence) * max(count, 0), sequence)

    def check_length(self, node: ast.AST, length: int, like: Any) -> None:
        limit = MAX_STRING if isinstance(like, str) else MAX_VALUES
        if length > limit:
            raise self.error(
                node,
                f"would make a {type(like).__name__} of {length:,} items, more than the "
                f"{limit:,} a config may hold",
            )

    def call(self, node: ast.Call, depth: int) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in CALLS:
            callee = brief(ast.unparse(node.func), 60)
            raise self.error(
                node,
                f"a call of {callee} is not read: only {', '.join(CALLS)} may be called "
                "in a .py config (it is read, never run)",
            )
        name = node.func.id
        args = [self.eval(a, depth) for a in self.items(node.args)]
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            value = self.eval(keyword.value, depth)
            given = (
                {keyword.arg: value} if keyword.arg else self.mapping(keyword.value, value, "**")
            )
            for key, item in given.items():
                if key in kwargs:
                    raise self.error(keyword, f"{name}() is given {brief(key)} twice")
                kwargs[key] = item
        if name in ("int", "float", "str", "bool"):
            for arg in (*args, *kwargs.values()):
                if not _is_scalar(arg):  # str() of a container could be huge
                    raise self.error(
                        node, f"{name}() takes a string or a number here, not {brief(arg)}"
                    )
        try:
            result = CALLS[name](*args, **kwargs)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise self.error(
                node,
                f"{brief(ast.unparse(node), 60)} cannot be computed: "
                f"{describe_exception(exc, 120)}",
            ) from None
        return self.made(node, result)

    def fstring(self, node: ast.JoinedStr, depth: int) -> str:
        parts: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue):
                raise self.outside(part)
            value = self.eval(part.value, depth)
            if not _is_scalar(value):
                raise self.error(
                    part,
                    f"an f-string may format a string, a number or None, not "
                    f"{type(value).__name__} {brief(value)}",
                )
            spec = ""
            if isinstance(part.format_spec, ast.JoinedStr):
                spec = self.fstring(part.format_spec, depth)
            if any(int(n) > _MAX_FORMAT_NUMBER for n in re.findall(r"\d+", spec)):
                raise self.error(
                    part, f"the format {brief(spec)} asks for more than {_MAX_FORMAT_NUMBER} digits"
                )
            if part.conversion == ord("r"):
                value = repr(value)
            elif part.conversion == ord("a"):
                value = ascii(value)
            try:
                parts.append(format(value, spec))
            except (TypeError, ValueError) as exc:
                raise self.error(
                    part, f"cannot format {brief(value)} with {brief(spec)}: {exc}"
                ) from None
            self.check_length(node, sum(map(len, parts)), "")
        text: str = self.made(node, "".join(parts))
        return text

    # -- bounds ---------------------------------------------------------------------

    def made(self, node: ast.AST, value: Any) -> Any:
        """``value``, a result of ``node``, once it is known to be within the bounds."""
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            if value.bit_length() > MAX_INT_BITS:
                raise self.error(
                    node,
                    f"makes an integer of {value.bit_length():,} bits, more than the "
                    f"{MAX_INT_BITS:,} a config may hold (write a float for a large number)",
                )
            return value
        if isinstance(value, str):
            self.check_length(node, len(value), value)
            self.spend(node, len(value))
            return value
        size, level = 1, 1
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            known = self.shape.get(id(child))
            if known is not None and known[0] is child:
                size += known[1]
                level = max(level, known[2] + 1)
            else:
                size += 1
        if size > MAX_VALUES:
            raise self.error(
                node,
                f"makes a value of {size:,} values (shared values counted each time they "
                f"appear), more than the {MAX_VALUES:,} a config may hold",
            )
        if level > MAX_DEPTH:
            raise self.error(node, f"makes values nested more than {MAX_DEPTH} levels deep")
        self.spend(node, len(value) + 1)
        self.shape[id(value)] = (value, size, level)
        return value

    def spend(self, node: ast.AST, units: int) -> None:
        self.reader.work += units
        if self.reader.work > MAX_WORK:
            raise self.error(
                node,
                f"makes more than {MAX_WORK:,} characters and values in all, far more than a "
                "config needs; the file is not read further",
            )


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


#: The keys under which MMGeneration's models take losses (any other ``*_loss`` is taken too).
LOSS_KEYS = ("gan_loss", "disc_auxiliary_loss", "gen_auxiliary_loss", "pixel_loss")


def loss_sections(config: Mapping[str, Any]) -> dict[str, Any]:
    """The loss entries of an MMGeneration config, by dotted key: ``{"model.gan_loss": {...}}``.

    A loss entry is a key of ``model`` (or of a dict nested in it) named
    ``gan_loss``, ``disc_auxiliary_loss``, ``gen_auxiliary_loss``,
    ``pixel_loss`` or any other ``*_loss``, holding a dict with a ``type``
    or a list or tuple of such dicts. An entry set to ``None`` (no such loss)
    is left out.
    """
    found: dict[str, Any] = {}

    def walk(node: Mapping[Any, Any], where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        for key, value in node.items():
            if not isinstance(key, str):
                continue
            place = f"{where}.{key}"
            if key.endswith("_loss") and _holds_losses(value):
                found[place] = value
            elif isinstance(value, Mapping):
                walk(value, place, depth + 1)

    model = config.get("model")
    if isinstance(model, Mapping):
        walk(model, "model", 0)
    return found


def _holds_losses(value: Any) -> bool:
    if isinstance(value, Mapping):
        return "type" in value
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, Mapping) and "type" in item for item in value)
    return False
