"""Griffe extension: the reST of our docstrings as the Markdown mkdocstrings renders.

Our docstrings follow torch's layout (Google sections, reST markup), so that
``help()`` and ``ganloss info`` read well in a terminal. mkdocstrings renders
docstrings as Markdown, so before it parses one this extension rewrites the
few reST constructs we use:

* a ``.. math::`` block becomes ``$$ ... $$`` and a ``:math:`x``` role
  ``$x$``: ``pymdownx.arithmatex`` keeps the LaTeX away from Markdown, and the
  MkDocs hook turns it into MathML when the site is built;
* a simple table (``===`` rules) becomes a Markdown table, and the ``::``
  that opens a literal block a ``:`` (the indented block is already code);
* a ``Shape:`` section (torch's, not a Google section griffe knows) becomes
  a list under a bold label;
* a cross-reference role (``:class:`~a.B```) becomes the code span ```B```;
* a hookspec of ``ganlosscore.hookspecs`` is parsed as a Sphinx-style
  docstring (``:param x:``) and says its kind (``firstresult`` or all called),
  read from its ``@hookspec(...)`` decorator.

Nothing else is converted: every other construct is already Markdown.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|obj|exc):`(~?)([^`]+)`")
_LABELLED_LIST = re.compile(r"^(?P<pad> *)(?P<label>Shape|Shapes|Inputs?|Outputs?):\s*$")
_TABLE_RULE = re.compile(r"^ *=+( +=+)+ *$")

KIND_TEXT = {
    True: "**Kind:** firstresult: implementations run newest first, and the first one that "
    "returns something other than `None` gives the result.",
    False: "**Kind:** all called: every implementation runs and the results are collected "
    "in a list.",
}


def rest_to_markdown(text: str) -> str:
    """The reST math blocks and roles of a docstring as arithmatex/Markdown syntax."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == ".. math::":
            indent = len(line) - len(line.lstrip())
            body: list[str] = []
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
            ):
                body.append(lines[i])
                i += 1
            while body and not body[-1].strip():
                body.pop()
                i -= 1
            pad = " " * indent
            formula = textwrap.dedent("\n".join(body)).strip("\n")
            out += [f"{pad}$$", *(f"{pad}{f}" for f in formula.splitlines()), f"{pad}$$"]
            continue
        labelled = _LABELLED_LIST.match(line)
        if labelled and i + 1 < len(lines) and lines[i + 1].startswith(labelled["pad"] + " "):
            pad, items = labelled["pad"], []
            i += 1
            while i < len(lines) and lines[i].startswith(pad + " "):
                item = lines[i].strip()
                first = len(lines[i]) - len(lines[i].lstrip()) - len(pad)
                if items and first > items[0][0]:
                    items[-1][1].append(item)  # a continuation line
                else:
                    items.append((first, [item]))
                i += 1
            out += [f"{pad}**{labelled['label']}:**", ""]
            out += [f"{pad}- {' '.join(words)}" for _, words in items]
            out.append("")
            continue
        if _TABLE_RULE.match(line):
            table, i = _simple_table(lines, i)
            out += table
            continue
        if line.rstrip().endswith("::") and i + 1 < len(lines) and not lines[i + 1].strip():
            line = line.rstrip()[:-1]  # "text::" opens a literal block; "::" alone stays empty
            line = "" if line.strip() == ":" else line
        out.append(line)
        i += 1
    text = "\n".join(out)
    text = _MATH_ROLE.sub(lambda m: f"${m[1]}$", text)

    def xref(match: re.Match[str]) -> str:
        target = match[2]
        return f"`{target.rsplit('.', 1)[-1] if match[1] else target}`"

    return _XREF_ROLE.sub(xref, text)


def _simple_table(lines: list[str], start: int) -> tuple[list[str], int]:
    """The reST simple table at ``lines[start]`` as Markdown, and the line after it.

    The table runs to the next blank line. Three rules mean a header row
    (between the first two); a row whose first column is blank continues the
    row above it.
    """
    end = start
    while end < len(lines) and lines[end].strip():
        end += 1
    block = lines[start:end]
    rules = [k for k, line in enumerate(block) if _TABLE_RULE.match(line)]
    indent = len(block[0]) - len(block[0].lstrip())
    spans = [m.start() for m in re.finditer(r"=+", block[0])]

    def rows(part: list[str]) -> list[list[str]]:
        out: list[list[str]] = []
        for line in part:
            cells = [
                line[a : spans[n + 1] if n + 1 < len(spans) else None].strip()
                for n, a in enumerate(spans)
            ]
            if out and not cells[0]:
                out[-1] = [f"{old} {new}".strip() for old, new in zip(out[-1], cells)]
            else:
                out.append(cells)
        return out

    header = [" "] * len(spans)
    if len(rules) >= 3:
        header = rows(block[rules[0] + 1 : rules[1]])[0]
    body = rows(block[rules[-2] + 1 : rules[-1]] if len(rules) >= 2 else block[1:])
    pad = " " * indent
    table = [pad + "| " + " | ".join(header) + " |", pad + "|" + "---|" * len(spans)]
    table += [pad + "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return ["", *table, ""], end


def _hookspec_firstresult(obj: griffe.Object) -> bool | None:
    """``firstresult`` of a ``@hookspec(...)`` function, ``None`` for anything else."""
    if not isinstance(obj, griffe.Function):
        return None
    for decorator in obj.decorators:
        source = str(decorator.value)
        if source.split("(", 1)[0].rsplit(".", 1)[-1] == "hookspec":
            return "firstresult=True" in source.replace(" ", "")
    return None


class GanlossDocstrings(griffe.Extension):
    """Rewrite every docstring as it is loaded (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is None:
            return
        docstring.value = rest_to_markdown(docstring.value)
        firstresult = _hookspec_firstresult(obj)
        if firstresult is not None:
            docstring.value = hookspec_docstring(docstring.value, firstresult=firstresult)


def hookspec_docstring(text: str, *, firstresult: bool) -> str:
    """A hookspec's docstring with its kind after the summary, its fields as Google sections.

    The hookspecs use Sphinx fields (``:param x:``, ``:returns:``), as
    pluggy's own do; mkdocstrings parses every docstring of a page with one
    style (ours is Google), so the fields become ``Args:`` and ``Returns:``
    sections, after the prose.
    """
    paragraphs = re.split(r"\n\s*\n", text.strip())
    prose = [p for p in paragraphs[1:] if not p.lstrip().startswith(":")]
    fields = " ".join(p for p in paragraphs[1:] if p.lstrip().startswith(":"))
    args, returns = [], []
    for field in re.split(r"\s*(?=:(?:param \w+|returns?):)", fields.strip()):
        param = re.match(r":param (\w+):\s*(.*)", field, re.S)
        if param:
            args.append(f"    {param[1]}: {' '.join(param[2].split())}")
        elif re.match(r":returns?:", field):
            returns.append("    " + " ".join(field.split(":", 2)[2].split()))
    sections = []
    if args:
        sections.append("\n".join(["Args:", *args]))
    if returns:
        sections.append("\n".join(["Returns:", *returns]))
    return "\n\n".join([paragraphs[0], KIND_TEXT[firstresult], *prose, *sections]) + "\n"
