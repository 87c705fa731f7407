"""The docstring examples and the README's Python blocks run and give the values they show."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import ganloss_adversarial
import pytest
import torch
import torch.nn.functional as F
from ganloss_adversarial import (
    ADVERSARIAL_TYPES,
    SMOOTHABLE_TYPES,
    DiscAdversarialLoss,
    GenAdversarialLoss,
)

from ganlosscore.testing import check_examples

MODULES = [f"ganloss_adversarial.{name}" for name in ("functional", "gan_loss", "adversarial")]
README = Path(__file__).parents[1] / "README.md"


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    check_examples(module)


def test_readme_python_blocks_run():
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", README.read_text(), re.M | re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for indent, code in blocks:
        code = "\n".join(line[len(indent) :] for line in code.splitlines())
        exec(compile(code, str(README), "exec"), namespace)


def test_every_loss_documents_formula_shapes_paper_and_example():
    for name in ("GANLoss", "DiscAdversarialLoss", "GenAdversarialLoss"):
        doc = getattr(ganloss_adversarial, name).__doc__ or ""
        for part in ("Args:", "Shape:", "Examples:", "MMGeneration"):
            assert part in doc, f"{name}'s docstring lacks {part!r}"
    # each formula has one home, its class: the functional form refers to it
    functional = importlib.import_module("ganloss_adversarial.functional")
    for name in functional.__all__:
        obj = getattr(functional, name)
        if callable(obj):
            assert re.search(r"see :class:`~ganloss_adversarial\.\w+`", obj.__doc__), name


def test_readme_names_every_type():
    text = README.read_text()
    for gan_type in (*ganloss_adversarial.ADVERSARIAL_TYPES, *ganloss_adversarial.GAN_LOSS_TYPES):
        assert f"`{gan_type}`" in text, gan_type


# -- the formulas the docs state are the ones the code computes ----------------------

#: The paper(s) each type's entry must cite.
PAPERS = {
    "minimax": ["Goodfellow et al. 2014"],
    "ns": ["Goodfellow et al. 2014"],
    "lsgan": ["Mao et al. 2017"],
    "wgan": ["Arjovsky et al. 2017"],
    "hinge": ["Lim & Ye 2017", "Miyato et al. 2018"],
    "ragan": ["Jolicoeur-Martineau 2018"],
    "ralsgan": ["Jolicoeur-Martineau 2018"],
    "rahinge": ["Jolicoeur-Martineau 2018"],
    "rpgan": ["Huang et al. 2024"],
}
LOSSES = {"disc": DiscAdversarialLoss, "gen": GenAdversarialLoss}
# One "- ``type``[, ``type``]: text" entry of a docstring's list, up to the next or a blank line.
ENTRY = re.compile(r"^- (?P<types>``\w+``(?:, ``\w+``)*): (?P<text>.*?)(?=^- |^$|\Z)", re.M | re.S)
# Random logits, real and fake batches of different sizes (rpgan pairs the first 3 of each).
X_R = torch.randn(3, generator=torch.Generator().manual_seed(1))
X_F = torch.randn(5, generator=torch.Generator().manual_seed(2)) - 0.5
PAIRED = ("rpgan",)


def fakes(gan_type: str) -> torch.Tensor:
    return X_F[: len(X_R)] if gan_type in PAIRED else X_F


def documented_entries(cls: type) -> dict[str, str]:
    """``{gan_type: its entry's text}`` from the list in ``cls``'s docstring."""
    entries = {}
    for match in ENTRY.finditer(inspect.cleandoc(cls.__doc__ or "")):
        for gan_type in re.findall(r"``(\w+)``", match["types"]):
            entries[gan_type] = " ".join(match["text"].split())
    return entries


def formulas(text: str) -> list[str]:
    """The code spans (RST ``x`` or Markdown `x`) of ``text`` that are formulas in x_r, x_f."""
    spans = re.findall(r"``([^`]+)``|`([^`]+)`", text)
    return [a or b for a, b in spans if "x_" in (a or b)]


def evaluate(formula: str, real_label: float, gan_type: str) -> torch.Tensor:
    """A documented formula at (X_R, X_F), with the docs' own definitions of its names."""
    names = {
        "mean": torch.mean,
        "softplus": F.softplus,
        "relu": F.relu,
        "sigmoid": torch.sigmoid,
        "log": torch.log,
        # BCE with logits as the docstring defines it, not torch's
        "BCE": lambda x, t: torch.mean(t * F.softplus(-x) + (1 - t) * F.softplus(x)),
        "x_r": X_R,
        "x_f": fakes(gan_type),
        "real_label": real_label,
    }
    python = formula.replace("²", "**2").replace("ℓ", "real_label")
    return eval(python, {"__builtins__": {}}, names)


def computed(side: str, gan_type: str, real_label: float) -> torch.Tensor:
    if side == "disc":
        return DiscAdversarialLoss(gan_type, real_label=real_label)(X_R, fakes(gan_type))
    return GenAdversarialLoss(gan_type)(fakes(gan_type), X_R)


def labels(side: str, gan_type: str) -> list[float]:
    """1 and, where the type smooths labels, a smoothed real label."""
    return [1.0, 0.9] if side == "disc" and gan_type in SMOOTHABLE_TYPES else [1.0]


@pytest.mark.parametrize("gan_type", ADVERSARIAL_TYPES)
@pytest.mark.parametrize("side", ["disc", "gen"])
def test_docstring_formula_of_every_type_is_what_the_code_computes(side, gan_type):
    cls = LOSSES[side]
    entry = documented_entries(cls).get(gan_type)
    assert entry is not None, f"{cls.__name__}'s docstring has no entry for {gan_type!r}"
    for paper in PAPERS[gan_type]:
        assert paper in entry, f"{cls.__name__}, {gan_type!r}: no reference to {paper}"
    stated = formulas(entry)
    assert stated, f"{cls.__name__}, {gan_type!r}: no formula"
    for real_label in labels(side, gan_type):
        expected = computed(side, gan_type, real_label)
        # Alternative forms ("which for real_label = 1 is ...") hold at the default label only.
        for formula in stated if real_label == 1.0 else stated[:1]:
            value = evaluate(formula, real_label, gan_type)
            torch.testing.assert_close(value, expected, msg=f"{gan_type}, {formula}")


def test_disc_docstring_documents_label_smoothing():
    doc = DiscAdversarialLoss.__doc__ or ""
    assert "Salimans et al. 2016" in doc and "one-sided label smoothing" in doc


def readme_rows() -> dict[str, tuple[str, str, str]]:
    """``{gan_type: (disc, gen, paper)}`` from the README's table of types."""
    pattern = r"^\| `(\w+)` \|(.*)\|(.*)\|(.*)\|$"
    return {t: (d, g, p) for t, d, g, p in re.findall(pattern, README.read_text(), re.M)}


@pytest.mark.parametrize("gan_type", ADVERSARIAL_TYPES)
def test_readme_table_formulas_are_what_the_code_computes(gan_type):
    rows = readme_rows()
    disc, gen, paper = rows[gan_type]
    assert all(p in paper for p in PAPERS[gan_type]), paper
    if "same as `minimax`" in disc:
        disc = rows["minimax"][0]
    if "real and fake swapped" in gen:
        gen = disc.replace("x_r", "x_tmp").replace("x_f", "x_r").replace("x_tmp", "x_f")
    for side, cell in (("disc", disc), ("gen", gen)):
        (formula,) = formulas(cell)
        for real_label in labels(side, gan_type):
            expected = computed(side, gan_type, real_label)
            value = evaluate(formula, real_label, gan_type)
            torch.testing.assert_close(value, expected, msg=formula)
