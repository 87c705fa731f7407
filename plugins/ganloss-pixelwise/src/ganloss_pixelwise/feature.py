"""Feature-space losses: perceptual/style loss and discriminator feature matching.

Neither loss owns or downloads a network. The perceptual loss takes its
feature extractor from the user (constructor or ``data_info``); feature
matching takes the discriminator features the model already computed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ganlosscore import ConfigError, LossInputError, LossModule
from ganlosscore.checks import brief, check_choice, check_number

from . import functional as F

__all__ = ["FeatureMatchingLoss", "PerceptualLoss", "log_prefix"]

FeatureExtractor = Callable[[Tensor], Any]
_CRITERIA: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "l1": lambda a, b: (a - b).abs().mean(),
    "mse": lambda a, b: ((a - b) ** 2).mean(),
}


def log_prefix(loss_name: str) -> str:
    """A prefix for extra logged values that cannot be taken for a loss term.

    ``'loss_perceptual'`` gives ``'perceptual'``; any other ``loss`` in the
    name is dropped too, so the default "sum every name containing 'loss'"
    rule never adds these values to the total.
    """
    prefix = loss_name.removeprefix("loss_").replace("loss", "").strip("_")
    return prefix or "unnamed"


def _as_layers(features: Any, what: str) -> dict[str, Tensor]:
    """Features as ``{layer key: tensor}``; list indices become ``'0'``, ``'1'``, ..."""
    if isinstance(features, Tensor):
        return {"0": features}
    if isinstance(features, Mapping):
        return {str(key): value for key, value in features.items()}
    if isinstance(features, (list, tuple)):
        return {str(index): value for index, value in enumerate(features)}
    raise LossInputError(
        f"the feature extractor must return a tensor, a list/tuple of tensors or a dict of "
        f"tensors; for {what} it returned {type(features).__name__}"
    )


def perceptual_and_style_terms(
    pred_features: Mapping[str, Tensor],
    target_features: Mapping[str, Tensor],
    layer_weights: Mapping[str, float],
    criterion: str = "l1",
    *,
    style: bool = True,
    style_layer_weights: Mapping[str, float] | None = None,
) -> tuple[Tensor, Tensor | None]:
    """The perceptual term ``P`` and style term ``S`` of :class:`PerceptualLoss` (see there).

    ``style_layer_weights`` default to the ``layer_weights`` (MMEditing's
    ``layer_weights_style=None``); ``S`` is ``None`` when ``style`` is false.
    """
    crit = _CRITERIA[criterion]
    perceptual: Tensor | None = None
    for layer, weight in layer_weights.items():
        fp, ft = _layer_pair(pred_features, target_features, layer, "layer_weights")
        term = weight * crit(fp, ft)
        perceptual = term if perceptual is None else perceptual + term
    if perceptual is None:
        raise LossInputError("the feature extractor returned no features")
    style_term: Tensor | None = None
    if style:
        option = "layer_weights" if style_layer_weights is None else "layer_weights_style"
        chosen = layer_weights if style_layer_weights is None else style_layer_weights
        if not chosen:
            raise LossInputError(
                f"{option} is empty: give the style term at least one layer, or style=False"
            )
        for layer, weight in chosen.items():
            fp, ft = _layer_pair(pred_features, target_features, layer, option)
            s = weight * crit(F.gram_matrix(fp), F.gram_matrix(ft))
            style_term = s if style_term is None else style_term + s
    return perceptual, style_term


def _layer_pair(
    pred_features: Mapping[str, Tensor],
    target_features: Mapping[str, Tensor],
    layer: str,
    option: str,
) -> tuple[Tensor, Tensor]:
    missing = [
        n for n, f in (("pred", pred_features), ("target", target_features)) if layer not in f
    ]
    if missing:
        raise LossInputError(
            f"{option} names layer {layer!r}, which the feature extractor did not "
            f"return for {missing[0]}; layers returned: {sorted(pred_features)}"
        )
    fp, ft = pred_features[layer], target_features[layer]
    if fp.shape != ft.shape:
        raise LossInputError(
            f"features of layer {layer!r} differ in shape between pred {tuple(fp.shape)} "
            f"and target {tuple(ft.shape)}"
        )
    return fp, ft


class PerceptualLoss(LossModule):
    r"""Perceptual (feature reconstruction) loss with optional Gram-matrix style term.

    .. math::
        \ell = \lambda_p \sum_l w_l\, c\big(\phi_l(\hat y), \phi_l(y)\big)
             + \lambda_s \sum_l s_l\, c\big(G(\phi_l(\hat y)), G(\phi_l(y))\big)

    :math:`\phi_l` are the layers the user's feature extractor returns,
    :math:`w_l` the ``layer_weights``, :math:`s_l` the ``layer_weights_style``
    (default :math:`w_l`), :math:`c` the ``criterion`` (mean absolute or squared
    error), :math:`G` the normalised Gram matrix
    (:func:`~ganloss_pixelwise.functional.gram_matrix`), :math:`\lambda_p` the
    ``perceptual_weight`` and :math:`\lambda_s` the ``style_weight``.

    Johnson, Alahi & Fei-Fei, "Perceptual losses for real-time style transfer
    and super-resolution" (ECCV 2016); Gatys et al. (CVPR 2016) for the style
    term; BasicSR's and MMEditing's ``PerceptualLoss`` (with MMEditing's
    ``layer_weights_style``). No network is built or downloaded: the
    ``feature_extractor`` (e.g. a frozen VGG trunk returning a dict of
    activations) comes to the constructor, where it becomes a submodule left as
    given (freeze it yourself), or as an input through ``data_info``; input
    normalisation is its job. The target's features are computed under
    ``torch.no_grad()``. The loss is one value; with ``style_weight > 0`` its
    two terms :math:`\lambda_p P` and :math:`\lambda_s S` (BasicSR's tuple) are
    also logged, without ``loss_weight``, as ``<prefix>_content`` and
    ``<prefix>_style`` through ``extra_log_vars``; the README of
    ganloss-pixelwise has the details.

    Args:
        feature_extractor: Callable ``f(images)`` returning a tensor, a list of
            tensors or a dict ``{layer name: tensor}``. Optional here if given as
            an input instead; giving both is an error.
        layer_weights: ``{layer: weight}``. Keys are the dict keys the extractor
            returns, or list indices (``0`` or ``'0'``). Default: every returned
            layer with weight 1.
        layer_weights_style: ``{layer: weight}`` for the style term, as
            MMEditing's ``layer_weights_style``. Default ``None``: the same
            layers and weights as the perceptual term. Needs ``style_weight > 0``.
        perceptual_weight: :math:`\lambda_p`. Default ``1.0``.
        style_weight: :math:`\lambda_s`. Default ``0.0`` (no style term).
        criterion: ``'l1'`` or ``'mse'``. Default ``'l1'``.
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_perceptual'``), ``interval``.

    Shape:
        pred, target: ``(N, C, H, W)``, the same shape.
        feature_extractor: optional; a callable as the constructor's.
        Output: a scalar.

    Examples:
        >>> extractor = lambda x: {"pix": x, "pool": x.mean(dim=(2, 3), keepdim=True)}
        >>> loss = PerceptualLoss(feature_extractor=extractor, layer_weights={"pix": 1.0})
        >>> loss(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2))
        tensor(1.)
    """

    default_loss_name = "loss_perceptual"

    def __init__(
        self,
        *,
        feature_extractor: FeatureExtractor | None = None,
        layer_weights: Mapping[str | int, float] | None = None,
        layer_weights_style: Mapping[str | int, float] | None = None,
        perceptual_weight: float = 1.0,
        style_weight: float = 0.0,
        criterion: str = "l1",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        label = type(self).__name__
        if feature_extractor is not None and not callable(feature_extractor):
            raise ConfigError(
                "must be callable (a module or function mapping images to features), got "
                f"{type(feature_extractor).__name__}",
                where=f"{label}.feature_extractor",
            )
        self.feature_extractor = feature_extractor
        self.layer_weights = _layer_weights(layer_weights, f"{label}.layer_weights")
        self.layer_weights_style = _layer_weights(
            layer_weights_style, f"{label}.layer_weights_style"
        )
        self.perceptual_weight = check_number(
            perceptual_weight, where=f"{label}.perceptual_weight", low=0.0
        )
        self.style_weight = check_number(style_weight, where=f"{label}.style_weight", low=0.0)
        self.criterion = check_choice(criterion, tuple(_CRITERIA), where=f"{label}.criterion")
        if self.perceptual_weight == 0.0 and self.style_weight == 0.0:
            raise ConfigError(
                "perceptual_weight and style_weight are both 0, so the loss would always be 0; "
                "give at least one of them a positive weight",
                where=f"{label}.style_weight",
            )
        if self.layer_weights_style is not None and self.style_weight == 0.0:
            raise ConfigError(
                "layer_weights_style weights the style term, which is off with style_weight=0; "
                "set style_weight > 0 or drop layer_weights_style",
                where=f"{label}.layer_weights_style",
            )
        self.extra_log_vars: dict[str, Tensor] = {}

    def compute(
        self,
        pred: Tensor,
        target: Tensor,
        feature_extractor: FeatureExtractor | None = None,
    ) -> Tensor:
        self.extra_log_vars = {}
        extractor = _pick_extractor(feature_extractor, self.feature_extractor)
        pred_features = _as_layers(extractor(pred), "pred")
        with torch.no_grad():
            target_features = _as_layers(extractor(target.detach()), "target")
        weights = self.layer_weights or dict.fromkeys(pred_features, 1.0)
        with_style = self.style_weight > 0.0
        content, style = perceptual_and_style_terms(
            pred_features,
            target_features,
            weights,
            self.criterion,
            style=with_style,
            style_layer_weights=self.layer_weights_style,
        )
        loss = self.perceptual_weight * content
        if style is not None:
            loss = loss + self.style_weight * style
            prefix = log_prefix(self.loss_name())
            self.extra_log_vars = {
                f"{prefix}_content": (self.perceptual_weight * content).detach(),
                f"{prefix}_style": (self.style_weight * style).detach(),
            }
        return loss

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, layer_weights={self.layer_weights}, "
            f"layer_weights_style={self.layer_weights_style}, "
            f"perceptual_weight={self.perceptual_weight}, style_weight={self.style_weight}, "
            f"criterion={self.criterion!r}"
        )


def _pick_extractor(given: Any, own: FeatureExtractor | None) -> FeatureExtractor:
    """The extractor given as an input, else the constructor's; exactly one of them."""
    if given is not None and own is not None:
        raise LossInputError(
            "PerceptualLoss got a feature_extractor both at construction and as an input; "
            "give it in one place only, so it is clear which network measures the loss"
        )
    extractor = given if given is not None else own
    if extractor is None:
        raise LossInputError(
            "PerceptualLoss has no feature extractor: pass feature_extractor=<module> to "
            "the constructor, or map the input 'feature_extractor' in data_info to the "
            "network in the outputs dict"
        )
    if not callable(extractor):
        raise LossInputError(
            f"the feature_extractor input must be callable, got {type(extractor).__name__}"
        )
    return extractor


def _layer_weights(layer_weights: Any, where: str) -> dict[str, float] | None:
    """``{layer: weight}`` with string keys (list indices become ``'0'``, ...), or None."""
    if layer_weights is None:
        return None
    if not isinstance(layer_weights, Mapping) or not layer_weights:
        raise ConfigError(
            "must be a non-empty mapping {layer: weight}, e.g. {'relu3_1': 1.0}, or None for "
            f"the default; got {brief(layer_weights)}",
            where=where,
        )
    return {
        str(layer): check_number(weight, where=f"{where}.{layer}", low=0.0)
        for layer, weight in layer_weights.items()
    }


def _flatten_features(feats: Any, what: str) -> list[Tensor]:
    """A flat list of tensors from a tensor, a list, or a list of lists (multi-scale D)."""
    if isinstance(feats, Tensor):
        return [feats]
    if isinstance(feats, Sequence) and not isinstance(feats, (str, bytes)):
        flat: list[Tensor] = []
        for item in feats:
            if isinstance(item, Tensor):
                flat.append(item)
            elif isinstance(item, Sequence) and all(isinstance(t, Tensor) for t in item):
                flat.extend(item)
            else:
                raise LossInputError(
                    f"{what} must be a list of tensors (or of lists of tensors, one per "
                    f"discriminator scale); found an item of type {type(item).__name__}"
                )
        return flat
    raise LossInputError(f"{what} must be a list of tensors, got {type(feats).__name__}")


def feature_matching_loss(real_feats: Sequence[Tensor], fake_feats: Sequence[Tensor]) -> Tensor:
    """The value of :class:`FeatureMatchingLoss` (see there) of two flat lists of layers.

    Input: two equally long lists of tensors, pairwise of equal shape.
    """
    if len(real_feats) != len(fake_feats):
        raise LossInputError(
            f"real_feats has {len(real_feats)} layers but fake_feats has {len(fake_feats)}; "
            "both must come from the same discriminator layers"
        )
    if not real_feats:
        raise LossInputError("real_feats and fake_feats are empty; there is nothing to match")
    total: Tensor | None = None
    for index, (real, fake) in enumerate(zip(real_feats, fake_feats)):
        if real.shape != fake.shape:
            raise LossInputError(
                f"layer {index}: real features {tuple(real.shape)} and fake features "
                f"{tuple(fake.shape)} differ in shape"
            )
        term = (fake - real.detach()).abs().mean()
        total = term if total is None else total + term
    assert total is not None
    return total / len(real_feats)


class FeatureMatchingLoss(LossModule):
    r"""Discriminator feature matching, the generator loss of Salimans et al. / pix2pixHD.

    .. math::
        \ell = \frac1L \sum_{l=1}^{L}
            \operatorname{mean}\big|D_l(\hat y) - \operatorname{sg}(D_l(y))\big|

    :math:`D_l` are the discriminator's intermediate features, ``sg`` a stop
    gradient: the real features are detached, so the loss trains the generator
    only. Each layer's L1 is a mean over its elements, then layers are averaged.

    Papers: Salimans et al., "Improved techniques for training GANs" (2016);
    Wang et al., "High-resolution image synthesis and semantic manipulation
    with conditional GANs" (pix2pixHD, CVPR 2018). pix2pixHD additionally
    weights layers by ``4 / (n_layers + 1)`` and drops each discriminator's
    final prediction; here every given tensor counts equally: pass only the
    layers you want (scale the whole with ``loss_weight``).

    Args:
        **kwargs: ``loss_weight``, ``data_info``, ``loss_name`` (default
            ``'loss_feature_matching'``), ``interval``.

    Shape:
        real_feats, fake_feats: lists of tensors of matching shapes, or lists of
            such lists (one per discriminator scale), flattened in order.
        Output: a scalar.

    Examples:
        >>> loss = FeatureMatchingLoss()
        >>> loss([torch.zeros(2, 3), torch.zeros(4)], [torch.ones(2, 3), torch.full((4,), 3.0)])
        tensor(2.)
    """

    default_loss_name = "loss_feature_matching"

    def compute(self, real_feats: Sequence[Tensor], fake_feats: Sequence[Tensor]) -> Tensor:
        return feature_matching_loss(
            _flatten_features(real_feats, "real_feats"),
            _flatten_features(fake_feats, "fake_feats"),
        )
