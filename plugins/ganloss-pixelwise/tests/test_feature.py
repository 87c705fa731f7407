"""PerceptualLoss and FeatureMatchingLoss."""

import pytest
import torch
from ganloss_pixelwise import FeatureMatchingLoss, PerceptualLoss

from ganlosscore import ConfigError, LossInputError


def identity_dict(x):
    return {"pix": x}


def two_layers(x):
    return [x, 2 * x]


def test_perceptual_l1_and_mse():
    pred, target = torch.full((1, 1, 2, 2), 2.0), torch.zeros(1, 1, 2, 2)
    # mean |2 - 0| = 2, mean (2 - 0)^2 = 4
    assert PerceptualLoss(feature_extractor=identity_dict)(pred, target).item() == 2.0
    mse = PerceptualLoss(feature_extractor=identity_dict, criterion="mse")
    assert mse(pred, target).item() == 4.0
    # perceptual_weight scales it
    half = PerceptualLoss(feature_extractor=identity_dict, perceptual_weight=0.5)
    assert half(pred, target).item() == 1.0


def test_perceptual_layer_weights_on_list_outputs():
    pred, target = torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2)
    # layers: x (L1 1) and 2x (L1 2); all layers, weight 1: 1 + 2
    assert PerceptualLoss(feature_extractor=two_layers)(pred, target).item() == 3.0
    # only layer 1 with weight 0.5: 0.5 * 2; int and str keys name the same layer
    for key in (1, "1"):
        loss = PerceptualLoss(feature_extractor=two_layers, layer_weights={key: 0.5})
        assert loss(pred, target).item() == 1.0


def test_perceptual_with_style_term_and_its_log_values():
    pred = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])  # (N=1, C=2, M=2)
    target = torch.zeros(1, 2, 2)
    loss = PerceptualLoss(feature_extractor=identity_dict, style_weight=2.0)
    value = loss(pred, target)
    # content: mean |pred| = 10 / 4 = 2.5
    # style: Gram(pred) = [[5, 11], [11, 25]] / 4, Gram(0) = 0, mean |.| = 52 / 16 = 3.25
    # total: 1 * 2.5 + 2 * 3.25 = 9
    assert value.item() == pytest.approx(9.0)
    assert loss.extra_log_vars.keys() == {"perceptual_content", "perceptual_style"}
    assert loss.extra_log_vars["perceptual_content"].item() == pytest.approx(2.5)
    assert loss.extra_log_vars["perceptual_style"].item() == pytest.approx(6.5)
    assert not loss.extra_log_vars["perceptual_style"].requires_grad


def three_layers(x):
    # "a": the features themselves; "b": their channel sum; "c": never weighted
    return {"a": x, "b": x.sum(dim=1, keepdim=True), "c": 100 * x}


# Tiny feature maps, (N=1, C=2, M=2): rows are channels, columns positions.
STYLE_PRED = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
STYLE_TARGET = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
# By hand, G(F) = F F^T / (C M):
# layer a: content |P - T| = [[0, 2], [3, 3]]: L1 8 / 4 = 2, MSE 22 / 4 = 5.5;
#   G(P) = [[5, 11], [11, 25]] / 4, G(T) = [[1, 0], [0, 1]] / 4,
#   G(P) - G(T) = [[1, 2.75], [2.75, 6]]:
#   style L1 12.5 / 4 = 3.125, MSE (1 + 2 * 7.5625 + 36) / 4 = 13.03125.
# layer b (C=1): P_b = [4, 6], T_b = [1, 1]; content |[3, 5]|: L1 4, MSE 34 / 2 = 17;
#   G(P_b) = 52 / 2 = 26, G(T_b) = 2 / 2 = 1: style L1 25, MSE 625.


@pytest.mark.parametrize(
    ("criterion", "content", "style", "loss_weight"),
    [
        # content 0.5 * 2 + 2 * 4 = 9; style 4 * 3.125 + 0.2 * 25 = 17.5
        ("l1", 9.0, 17.5, 1.0),
        # content 0.5 * 5.5 + 2 * 17 = 36.75; style 4 * 13.03125 + 0.2 * 625 = 177.125
        ("mse", 36.75, 177.125, 1.0),
        # BasicSR/MMEditing return (lambda_p P, lambda_s S) and have no loss_weight: the
        # logged parts are those two values; loss_weight scales only the returned loss,
        # 2 * (0.3 * 9 + 0.1 * 17.5) = 2 * 4.45
        ("l1", 9.0, 17.5, 2.0),
    ],
)
def test_perceptual_per_layer_perceptual_and_style_weights_by_hand(
    criterion, content, style, loss_weight
):
    loss = PerceptualLoss(
        feature_extractor=three_layers,
        layer_weights={"a": 0.5, "b": 2.0},
        layer_weights_style={"a": 4.0, "b": 0.2},
        perceptual_weight=0.3,
        style_weight=0.1,
        criterion=criterion,
        loss_weight=loss_weight,
    )
    value = loss(STYLE_PRED, STYLE_TARGET)
    assert value.item() == pytest.approx(loss_weight * (0.3 * content + 0.1 * style))
    assert loss.extra_log_vars["perceptual_content"].item() == pytest.approx(0.3 * content)
    assert loss.extra_log_vars["perceptual_style"].item() == pytest.approx(0.1 * style)


def test_perceptual_style_weights_default_to_the_layer_weights():
    loss = PerceptualLoss(
        feature_extractor=three_layers,
        layer_weights={"a": 0.5, "b": 2.0},
        perceptual_weight=0.3,
        style_weight=0.1,
    )
    # style with the content weights: 0.5 * 3.125 + 2 * 25 = 51.5625; content 9 (as above)
    assert loss(STYLE_PRED, STYLE_TARGET).item() == pytest.approx(0.3 * 9 + 0.1 * 51.5625)


def test_perceptual_style_may_use_other_layers_than_the_content():
    loss = PerceptualLoss(
        feature_extractor=three_layers,
        layer_weights={"a": 1.0},
        layer_weights_style={"b": 1.0},
        style_weight=1.0,
    )
    # content: layer a only, 2; style: layer b only, 25
    assert loss(STYLE_PRED, STYLE_TARGET).item() == pytest.approx(27.0)
    with pytest.raises(LossInputError, match="layer_weights_style names layer 'relu9'"):
        PerceptualLoss(
            feature_extractor=three_layers, layer_weights_style={"relu9": 1.0}, style_weight=1.0
        )(STYLE_PRED, STYLE_TARGET)


def test_perceptual_without_style_logs_nothing_extra():
    loss = PerceptualLoss(feature_extractor=identity_dict)
    loss(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2))
    assert loss.extra_log_vars == {}


def test_perceptual_extractor_through_data_info():
    net = torch.nn.Conv2d(1, 2, 1, bias=False)
    torch.nn.init.constant_(net.weight, 3.0)
    loss = PerceptualLoss(data_info={"pred": "fake", "target": "real", "feature_extractor": "net"})
    outputs = {"fake": torch.ones(1, 1, 2, 2), "real": torch.zeros(1, 1, 2, 2), "net": net}
    # features 3 * x: mean |3 - 0| = 3
    assert loss(outputs).item() == 3.0
    # direct path with the extractor as third input
    assert PerceptualLoss()(outputs["fake"], outputs["real"], net).item() == 3.0


def test_perceptual_constructor_module_is_a_submodule():
    net = torch.nn.Conv2d(1, 2, 1)
    loss = PerceptualLoss(feature_extractor=net)
    assert set(loss.state_dict()) == {"feature_extractor.weight", "feature_extractor.bias"}
    assert loss.to(torch.float64).feature_extractor.weight.dtype == torch.float64


def test_perceptual_gradients_reach_pred_not_target():
    pred = torch.ones(1, 1, 2, 2, requires_grad=True)
    target = torch.zeros(1, 1, 2, 2, requires_grad=True)
    PerceptualLoss(feature_extractor=identity_dict)(pred, target).backward()
    # d/dp mean |p - t| = sign / 4
    torch.testing.assert_close(pred.grad, torch.full((1, 1, 2, 2), 0.25))
    assert target.grad is None


def test_perceptual_extractor_errors():
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(LossInputError, match="has no feature extractor"):
        PerceptualLoss()(x, x)
    with pytest.raises(LossInputError, match="one place only"):
        PerceptualLoss(feature_extractor=identity_dict)(x, x, identity_dict)
    with pytest.raises(LossInputError, match=r"layer 'relu9'.*\['pix'\]"):
        PerceptualLoss(feature_extractor=identity_dict, layer_weights={"relu9": 1.0})(x, x)
    with pytest.raises(LossInputError, match="returned int"):
        PerceptualLoss(feature_extractor=lambda _: 3)(x, x)


@pytest.mark.parametrize(
    ("hyper", "match"),
    [
        ({"criterion": "l3"}, "criterion: must be one of 'l1', 'mse'; got 'l3'"),
        ({"perceptual_weight": 0.0}, "both 0"),
        ({"style_weight": -1.0}, r"style_weight: must lie in \[0.0, inf\]"),
        ({"layer_weights": {}}, "non-empty mapping"),
        ({"layer_weights": {"a": "x"}}, "finite number"),
        (
            {"layer_weights_style": {}, "style_weight": 1.0},
            "layer_weights_style: must be a non-empty mapping",
        ),
        ({"layer_weights_style": {"a": -1.0}, "style_weight": 1.0}, "layer_weights_style.a"),
        ({"layer_weights_style": {"a": 1.0}}, "off with style_weight=0"),
        ({"feature_extractor": "vgg19"}, "must be callable"),
    ],
)
def test_perceptual_bad_config(hyper, match):
    with pytest.raises(ConfigError, match=match):
        PerceptualLoss(**hyper)


def test_feature_matching_value_and_detached_real():
    real = [torch.zeros(2, 3, requires_grad=True), torch.zeros(4, requires_grad=True)]
    fake = [torch.ones(2, 3, requires_grad=True), torch.full((4,), 3.0, requires_grad=True)]
    loss = FeatureMatchingLoss()
    assert loss.loss_name() == "loss_feature_matching"
    value = loss(real, fake)
    # layer L1s 1 and 3, mean over the 2 layers
    assert value.item() == 2.0
    value.backward()
    assert all(r.grad is None for r in real)
    # d/dfake of mean|fake - real| / 2 layers = 1 / (numel * 2)
    torch.testing.assert_close(fake[0].grad, torch.full((2, 3), 1 / 12))
    torch.testing.assert_close(fake[1].grad, torch.full((4,), 1 / 8))


def test_feature_matching_flattens_multiscale_lists_and_uses_data_info():
    real = [[torch.zeros(2), torch.zeros(2)], [torch.zeros(3)]]
    fake = [[torch.ones(2), torch.full((2,), 2.0)], [torch.full((3,), 6.0)]]
    loss = FeatureMatchingLoss(data_info={"real_feats": "d_real", "fake_feats": "d_fake"})
    # layers 1, 2, 6: mean 3
    assert loss({"d_real": real, "d_fake": fake}).item() == 3.0


@pytest.mark.parametrize(
    ("real", "fake", "match"),
    [
        ([torch.zeros(2)], [torch.zeros(2), torch.zeros(2)], "1 layers but fake_feats has 2"),
        ([torch.zeros(2)], [torch.zeros(3)], r"layer 0: .*\(2,\).*\(3,\)"),
        ([], [], "empty"),
        ([1.0], [1.0], "found an item of type float"),
    ],
)
def test_feature_matching_bad_input(real, fake, match):
    with pytest.raises(LossInputError, match=match):
        FeatureMatchingLoss()(real, fake)


def test_an_empty_style_layer_mapping_is_refused_by_the_functional_too():
    from ganloss_pixelwise.feature import perceptual_and_style_terms

    feats = {"a": torch.ones(1, 1, 2, 2)}
    with pytest.raises(LossInputError, match="layer_weights_style is empty"):
        perceptual_and_style_terms(feats, feats, {"a": 1.0}, style_layer_weights={})
    # style=False needs no style layers at all
    _, style = perceptual_and_style_terms(feats, feats, {"a": 1.0}, style=False)
    assert style is None
