"""InfoGAN's mutual-information loss for categorical and continuous latent codes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch  # noqa: F401  (the docstring examples use it)
import torch.nn.functional as F
from torch import Tensor

from ganlosscore import ConfigError, GanLossError, LossInputError, LossModule
from ganlosscore.checks import check_number

__all__ = ["InfoGANMutualInformationLoss", "categorical_code_nll", "continuous_code_nll"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)

#: The inputs of each kind of code: all of a kind are mapped, or none.
CATEGORICAL = ("code_logits", "codes")
CONTINUOUS = ("code_mean", "continuous_codes")


def categorical_code_nll(code_logits: Tensor, codes: Tensor) -> Tensor:
    """``sum_c mean_i CE(code_logits[i, c], codes[i, c])``; see the class.

    Input: ``code_logits`` ``(N, n_codes, dim)`` or ``(N, dim)``; ``codes``
    ``(N, n_codes)`` or ``(N,)``, integer indices in ``[0, dim)``.

    Example:
        >>> categorical_code_nll(torch.zeros(2, 3, 4), torch.zeros(2, 3, dtype=torch.long))
        tensor(4.1589)
    """
    dim = code_logits.shape[-1]
    total = F.cross_entropy(code_logits.reshape(-1, dim), codes.reshape(-1), reduction="sum")
    return total / code_logits.shape[0]


def continuous_code_nll(
    code_mean: Tensor, codes: Tensor, code_var: Tensor | None = None, eps: float = 1e-6
) -> Tensor:
    """``mean_i sum_d -log N(codes_id; code_mean_id, code_var_id)``; see the class.

    ``code_var=None`` is unit variance. Input: all ``(N, d)``.

    Example:
        >>> continuous_code_nll(torch.zeros(2, 1), torch.ones(2, 1))  # 0.5 log(2 pi) + 0.5
        tensor(1.4189)
    """
    # Written out rather than F.gaussian_nll_loss, whose check any(var < 0) reads a value
    # on the host (a device synchronisation every step).
    if code_var is None:
        nll = 0.5 * (codes - code_mean).pow(2) + _HALF_LOG_2PI
    else:
        var = code_var.clamp(min=eps)
        nll = 0.5 * (var.log() + (codes - code_mean).pow(2) / var) + _HALF_LOG_2PI
    return nll.flatten(1).sum(dim=1).mean()


class InfoGANMutualInformationLoss(LossModule):
    """InfoGAN's mutual-information term: the codes' negative log-likelihood under ``Q``.

    ``loss = categorical_weight * sum_c mean_i CE(code_logits_ic, codes_ic)``
    ``+ continuous_weight * mean_i sum_d -log N(c_id; mu_id, var_id)``

    where ``Q`` (a head of the discriminator) predicts, from a generated
    sample, logits for each categorical code and a Gaussian (``code_mean``,
    optional ``code_var``; unit variance without it) for each continuous one.
    Minimizing it maximizes the variational lower bound ``L_I(G, Q)`` of the
    mutual information between the codes and the sample; both the generator
    and ``Q`` minimize it (the same term in both steps). Chen et al. 2016,
    "InfoGAN: Interpretable Representation Learning by Information Maximizing
    Generative Adversarial Nets" (NeurIPS), eq. 5; the continuous term is
    PyTorch-StudioGAN's ``normal_nll_loss`` (a factored Gaussian; here the
    variance is clamped at ``eps`` rather than offset by it),
    whose ``infoGAN_loss_discrete_lambda`` / ``infoGAN_loss_conti_lambda`` are
    the two weights.

    Map ``code_logits`` and ``codes`` for categorical codes, ``code_mean`` and
    ``continuous_codes`` (and optionally ``code_var``) for continuous ones, or
    both kinds; a kind half mapped is a ``ConfigError`` at construction.

    Args:
        categorical_weight: Weight of the categorical term, ``>= 0`` (1).
        continuous_weight: Weight of the continuous term, ``>= 0`` (1).
        eps: Lower clamp of the variance, ``> 0`` (1e-6).
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``loss_info``), ``interval``.

    Shape:
        code_logits: ``(N, n_codes, dim)`` or ``(N, dim)``, ``Q``'s logits.
        codes: ``(N, n_codes)`` or ``(N,)``, the categorical codes drawn, integers.
        code_mean, code_var: ``(N, d)``, ``Q``'s Gaussian for the continuous codes.
        continuous_codes: ``(N, d)``, the continuous codes drawn.
        Output: scalar.

    Examples:
        >>> info = InfoGANMutualInformationLoss()
        >>> info(code_logits=torch.zeros(2, 4), codes=torch.tensor([0, 3]))  # log 4
        tensor(1.3863)
    """

    default_loss_name = "loss_info"
    floating_inputs = frozenset({"code_logits", "code_mean", "code_var", "continuous_codes"})

    def __init__(
        self,
        categorical_weight: float = 1.0,
        continuous_weight: float = 1.0,
        eps: float = 1e-6,
        **kwargs: Any,
    ) -> None:
        label = type(self).__name__
        data_info = kwargs.get("data_info")
        if isinstance(data_info, Mapping):
            _check_kinds(set(data_info), f"{label}.data_info", error=ConfigError)
        super().__init__(**kwargs)
        self.categorical_weight = check_number(
            categorical_weight, where=f"{label}.categorical_weight", low=0.0
        )
        self.continuous_weight = check_number(
            continuous_weight, where=f"{label}.continuous_weight", low=0.0
        )
        self.eps = check_number(eps, where=f"{label}.eps", low=0.0, low_open=True)

    def compute(
        self,
        code_logits: Tensor | None = None,
        codes: Tensor | None = None,
        code_mean: Tensor | None = None,
        continuous_codes: Tensor | None = None,
        code_var: Tensor | None = None,
    ) -> Tensor:
        inputs = {
            "code_logits": code_logits,
            "codes": codes,
            "code_mean": code_mean,
            "continuous_codes": continuous_codes,
            "code_var": code_var,
        }
        _check_kinds({k for k, v in inputs.items() if v is not None}, self.loss_name())
        terms = []
        if code_logits is not None and codes is not None:
            terms.append(self.categorical_weight * categorical_code_nll(code_logits, codes))
        if code_mean is not None and continuous_codes is not None:
            nll = continuous_code_nll(code_mean, continuous_codes, code_var, self.eps)
            terms.append(self.continuous_weight * nll)
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def extra_repr(self) -> str:
        weights = (
            f"categorical_weight={self.categorical_weight}, "
            f"continuous_weight={self.continuous_weight}, eps={self.eps}"
        )
        return f"{weights}, {super().extra_repr()}"


def _check_kinds(
    given: set[str], where: str, *, error: type[GanLossError] = LossInputError
) -> None:
    """Each kind of code fully given or not at all, and at least one kind."""
    problems = [
        f"{' and '.join(kind)} go together; got only {', '.join(sorted(given & set(kind)))}"
        for kind in (CATEGORICAL, CONTINUOUS)
        if 0 < len(given & set(kind)) < len(kind)
    ]
    if "code_var" in given and not set(CONTINUOUS) <= given:
        problems.append("code_var needs code_mean and continuous_codes")
    if not problems and not (set(CATEGORICAL) <= given or set(CONTINUOUS) <= given):
        problems.append(
            "no code to score: give code_logits and codes (categorical codes), "
            "code_mean and continuous_codes (continuous codes), or both"
        )
    if problems:
        raise error("; ".join(problems), where=where)
