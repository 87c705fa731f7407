"""AC-GAN, TAC-GAN and ADC-GAN classifier losses: hand-derived values, StudioGAN's terms,
and the checks of their inputs.

CE(x, y) = logsumexp(x) - x_y per row, averaged over rows.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _conditional_reference import close
from ganloss_conditional import (
    AuxiliaryClassifierLoss,
    DiscDiscriminativeClassifierLoss,
    DiscTwinClassifierLoss,
    GenDiscriminativeClassifierLoss,
    GenTwinClassifierLoss,
)

from ganlosscore import ConfigError, LossInputError, build_loss

E = math.e
# CE([2, 0, 0], 0) = log(e^2 + 1 + 1) - 2
CE_200_0 = math.log(E**2 + 2) - 2  # 0.2395130
LOG3 = math.log(3.0)  # CE([0, 0, 0], any)


def test_auxiliary_classifier_value():
    # rows [2, 0, 0] (label 0) and [0, 0, 0] (label 2): mean(CE_200_0, log 3).
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    loss = AuxiliaryClassifierLoss(data_info={"logits": "cls_real", "labels": "real_labels"})
    value = loss({"cls_real": logits, "real_labels": torch.tensor([0, 2])})
    assert close(value, (CE_200_0 + LOG3) / 2)  # 0.6690627


def test_auxiliary_classifier_gradient_is_softmax_minus_one_hot():
    # d CE / d x = (softmax(x) - onehot(y)) / N; row [0, 0, 0] with label 2: [1/3, 1/3, -2/3] / 1.
    logits = torch.zeros(1, 3, requires_grad=True)
    AuxiliaryClassifierLoss()(logits, torch.tensor([2])).backward()
    assert torch.allclose(logits.grad, torch.tensor([[1 / 3, 1 / 3, -2 / 3]]))


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.uint8])
def test_integer_labels_of_any_width_are_class_indices(dtype):
    logits = torch.tensor([[2.0, 0.0, 0.0]])
    assert close(AuxiliaryClassifierLoss()(logits, torch.tensor([0], dtype=dtype)), CE_200_0)


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (torch.tensor([0.0, 1.0]), "torch.float32 tensor of shape (2,)"),
        (torch.tensor([True, False]), "torch.bool tensor"),
        (torch.eye(2, dtype=torch.long), "shape (2, 2)"),  # one-hot
        (torch.tensor([0, 1, 2]), "shape (3,)"),  # not one per row
        ([0, 1], "a list"),
    ],
)
def test_bad_labels_are_a_loss_input_error_naming_the_input(labels, problem):
    loss = AuxiliaryClassifierLoss()
    with pytest.raises(LossInputError, match="expected class indices") as info:
        loss(torch.zeros(2, 3), labels)
    assert problem in str(info.value)
    assert info.value.where == "loss_ac.labels"


def test_bad_logits_are_a_loss_input_error():
    with pytest.raises(LossInputError) as info:
        AuxiliaryClassifierLoss()(torch.zeros(2, 3, 4), torch.tensor([0, 1]))
    assert info.value.where == "loss_ac.logits" and "(N, C)" in str(info.value)
    with pytest.raises(LossInputError, match="floating-point"):
        AuxiliaryClassifierLoss()(torch.zeros(2, 3, dtype=torch.long), torch.tensor([0, 1]))


def test_out_of_range_labels_are_left_to_torch_on_the_cpu():
    # Documented: checking the range would sync the device; torch's cross_entropy reports it.
    with pytest.raises(IndexError, match="out of bounds"):
        AuxiliaryClassifierLoss()(torch.zeros(2, 3), torch.tensor([0, 3]))


def test_twin_classifier_disc_value():
    # CE([2,0,0], 0) on real + twin_weight * CE([0,0,0], 1) on fake, twin_weight = 0.5.
    loss = DiscTwinClassifierLoss(twin_weight=0.5)
    value = loss(
        torch.tensor([[2.0, 0.0, 0.0]]),
        torch.tensor([0]),
        torch.zeros(1, 3),
        torch.tensor([1]),
    )
    assert close(value, CE_200_0 + 0.5 * LOG3)  # 0.7888191
    assert "twin_weight=0.5" in repr(loss)


def test_twin_classifier_gen_value_and_the_sign_of_the_twin_term():
    # CE([2,0,0], 0) - CE([0,1,0], 0), and CE([0,1,0], 0) = log(1 + e + 1) - 0.
    logits = torch.tensor([[2.0, 0.0, 0.0]])
    twin = torch.tensor([[0.0, 1.0, 0.0]], requires_grad=True)
    value = GenTwinClassifierLoss()(logits, twin, torch.tensor([0]))
    assert close(value, CE_200_0 - math.log(2 + E))  # -1.3119317
    # The generator maximizes the twin's cross entropy: gradient -(softmax - onehot).
    value.backward()
    softmax = torch.tensor([1.0, E, 1.0]) / (2 + E)
    assert torch.allclose(twin.grad, -(softmax - torch.tensor([1.0, 0.0, 0.0]))[None])


def test_twin_classifier_terms_are_studiogans():
    # StudioGAN, aux_cls_type="TAC": D += cond_lambda * CE(cls_real, y_real)
    # + tac_dis_lambda * CE(mi_cls_fake, y_fake); G += cond_lambda * CE(cls_fake, y_fake)
    # - tac_gen_lambda * CE(mi_cls_fake, y_fake). With cond_lambda = loss_weight = 0.5 and
    # tac_*_lambda = 0.25: twin_weight = 0.5.
    gen = torch.Generator().manual_seed(0)
    cls_real, cls_fake, mi_fake = (torch.randn(6, 4, generator=gen) for _ in range(3))
    y_real, y_fake = (torch.randint(0, 4, (6,), generator=gen) for _ in range(2))
    disc = DiscTwinClassifierLoss(twin_weight=0.5, loss_weight=0.5)
    expected = 0.5 * F.cross_entropy(cls_real, y_real) + 0.25 * F.cross_entropy(mi_fake, y_fake)
    assert torch.allclose(disc(cls_real, y_real, mi_fake, y_fake), expected)
    gen_loss = GenTwinClassifierLoss(twin_weight=0.5, loss_weight=0.5)
    expected = 0.5 * F.cross_entropy(cls_fake, y_fake) - 0.25 * F.cross_entropy(mi_fake, y_fake)
    assert torch.allclose(gen_loss(cls_fake, mi_fake, y_fake), expected)


@pytest.mark.parametrize("cls", [DiscTwinClassifierLoss, GenTwinClassifierLoss])
@pytest.mark.parametrize("bad", [-0.1, float("nan"), "1", True])
def test_twin_weight_is_checked_at_construction(cls, bad):
    with pytest.raises(ConfigError) as info:
        cls(twin_weight=bad)
    assert info.value.where == f"{cls.__name__}.twin_weight"


def test_disc_twin_names_the_input_at_fault():
    loss = DiscTwinClassifierLoss()
    with pytest.raises(LossInputError) as info:
        loss(torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2, 3), torch.tensor([0.0, 1]))
    assert info.value.where == "loss_disc_tac.labels_fake"


def test_discriminative_classifier_disc_value():
    # K = 2, columns [real 0, fake 0, real 1, fake 1]. Real sample of class 0 -> column 0:
    # CE([1,0,0,0], 0) = log(e + 3) - 1. Fake sample of class 1 -> column 3:
    # CE([0,0,0,2], 3) = log(3 + e^2) - 2.
    value = DiscDiscriminativeClassifierLoss()(
        torch.tensor([[1.0, 0.0, 0.0, 0.0]]),
        torch.tensor([0]),
        torch.tensor([[0.0, 0.0, 0.0, 2.0]]),
        torch.tensor([1]),
    )
    assert close(value, math.log(E + 3) - 1 + math.log(3 + E**2) - 2)  # 1.0844179


def test_discriminative_classifier_gen_value():
    # CE(x, 2y) - CE(x, 2y+1) = x_{2y+1} - x_{2y}: rows [1,0,0,2] (y=1): 2 - 0 = 2,
    # [1,0,0,2] (y=0): 0 - 1 = -1. Mean 0.5.
    logits = torch.tensor([[1.0, 0.0, 0.0, 2.0], [1.0, 0.0, 0.0, 2.0]])
    assert close(GenDiscriminativeClassifierLoss()(logits, torch.tensor([1, 0])), 0.5)


def test_discriminative_classifier_terms_are_studiogans():
    # StudioGAN, aux_cls_type="ADC": the discriminator relabels y as 2y (real) and 2y + 1
    # (adc_fake=True); D += CE(cls_real, 2y_r) + CE(cls_fake, 2y_f + 1); G += CE(cls_fake, 2y)
    # - CE(cls_fake, 2y + 1), both on the same 2K logits.
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(5, 6, generator=gen), torch.randn(5, 6, generator=gen)
    y_real, y_fake = (torch.randint(0, 3, (5,), generator=gen) for _ in range(2))
    expected = F.cross_entropy(real, 2 * y_real) + F.cross_entropy(fake, 2 * y_fake + 1)
    assert torch.allclose(DiscDiscriminativeClassifierLoss()(real, y_real, fake, y_fake), expected)
    expected = F.cross_entropy(fake, 2 * y_fake) - F.cross_entropy(fake, 2 * y_fake + 1)
    assert torch.allclose(GenDiscriminativeClassifierLoss()(fake, y_fake), expected)


@pytest.mark.parametrize(
    ("loss", "args", "where"),
    [
        (GenDiscriminativeClassifierLoss(), (torch.zeros(2, 3), torch.tensor([0, 1])), "logits"),
        (
            DiscDiscriminativeClassifierLoss(),
            (torch.zeros(2, 4), torch.tensor([0, 1]), torch.zeros(2, 5), torch.tensor([0, 1])),
            "logits_fake",
        ),
    ],
)
def test_discriminative_classifier_needs_an_even_number_of_columns(loss, args, where):
    with pytest.raises(LossInputError, match="expected 2K columns") as info:
        loss(*args)
    assert info.value.where == f"{loss.loss_name()}.{where}"


def test_configs_build_by_name_with_their_names():
    names = {
        "AuxiliaryClassifierLoss": "loss_ac",
        "DiscTwinClassifierLoss": "loss_disc_tac",
        "GenTwinClassifierLoss": "loss_gen_tac",
        "DiscDiscriminativeClassifierLoss": "loss_disc_adc",
        "GenDiscriminativeClassifierLoss": "loss_gen_adc",
    }
    for type_name, loss_name in names.items():
        assert build_loss({"type": type_name}).loss_name() == loss_name
