"""DiscAdversarialLoss and GenAdversarialLoss: every type, through data_info, and their errors.

Inputs (the ``preds`` fixture): x_r = disc_pred_real = [1], x_f = disc_pred_fake = [-1, 1]
for the discriminator, x_f = disc_pred_fake_g = [0, 2] for the generator.
"""

from __future__ import annotations

import math

import pytest
import torch
from _adversarial_values import SP0, SP1, SP2, SP_1, SP_2, close
from ganloss_adversarial import ADVERSARIAL_TYPES, DiscAdversarialLoss, GenAdversarialLoss
from ganloss_adversarial.functional import disc_adversarial_loss, gen_adversarial_loss

from ganlosscore import ConfigError, GanLossError, LossInputError, build_loss

DISC_INFO = {"pred_real": "disc_pred_real", "pred_fake": "disc_pred_fake"}
GEN_INFO = {"pred_fake": "disc_pred_fake_g"}
GEN_INFO_RELATIVISTIC = {"pred_fake": "disc_pred_fake_g", "pred_real": "disc_pred_real"}

DISC_EXPECTED = {
    # softplus(-x_r) = softplus(-1); mean softplus(x_f) = (softplus(-1) + softplus(1)) / 2.
    "minimax": SP_1 + (SP_1 + SP1) / 2,  # 1.1265234
    "ns": SP_1 + (SP_1 + SP1) / 2,
    # (1 - 1)^2 + mean((-1)^2, 1^2) = 0 + 1.
    "lsgan": 1.0,
    # mean(x_f) - mean(x_r) = 0 - 1.
    "wgan": -1.0,
    # relu(1 - 1) + mean(relu(1 - 1), relu(1 + 1)) = 0 + (0 + 2) / 2.
    "hinge": 1.0,
    # mean(x_f) = 0, mean(x_r) = 1: softplus(-(1 - 0)) + mean(softplus(-1 - 1), softplus(1 - 1)).
    "ragan": SP_1 + (SP_2 + SP0) / 2,  # 0.7232993
    # (1 - 0 - 1)^2 + mean((-1 - 1 + 1)^2, (1 - 1 + 1)^2) = 0 + 1.
    "ralsgan": 1.0,
    # relu(1 - (1 - 0)) + mean(relu(1 + (-2)), relu(1 + 0)) = 0 + 0.5.
    "rahinge": 0.5,
}

GEN_EXPECTED = {
    # saturating: -mean(softplus(x_f)) = -(softplus(0) + softplus(2)) / 2.
    "minimax": -(SP0 + SP2) / 2,  # -1.4100376
    # non-saturating: mean(softplus(-x_f)) = (softplus(0) + softplus(-2)) / 2.
    "ns": (SP0 + SP_2) / 2,  # 0.4100376
    # mean((0 - 1)^2, (2 - 1)^2) = 1.
    "lsgan": 1.0,
    # -mean(x_f) = -1.
    "wgan": -1.0,
    "hinge": -1.0,
    # mean(x_r) = 1, mean(x_f) = 1: mean softplus(-(x_f - 1)) = mean(softplus(1), softplus(-1)),
    # plus softplus(x_r - mean(x_f)) = softplus(0).
    "ragan": (SP1 + SP_1) / 2 + SP0,  # 1.5064089
    # mean((x_f - 1 - 1)^2) = mean(4, 0) = 2, plus (x_r - 1 + 1)^2 = 1.
    "ralsgan": 3.0,
    # mean(relu(1 - (x_f - 1))) = mean(2, 0) = 1, plus relu(1 + (1 - 1)) = 1.
    "rahinge": 2.0,
}


@pytest.mark.parametrize(("gan_type", "expected"), DISC_EXPECTED.items())
def test_disc_values(gan_type, expected, preds):
    loss = DiscAdversarialLoss(gan_type, data_info=DISC_INFO)
    assert close(loss(preds), expected)
    assert close(
        disc_adversarial_loss(preds["disc_pred_real"], preds["disc_pred_fake"], gan_type), expected
    )


@pytest.mark.parametrize(("gan_type", "expected"), GEN_EXPECTED.items())
def test_gen_values(gan_type, expected, preds):
    info = GEN_INFO_RELATIVISTIC if gan_type.startswith("ra") else GEN_INFO
    loss = GenAdversarialLoss(gan_type, data_info=info)
    assert close(loss(preds), expected)
    direct = gen_adversarial_loss(preds["disc_pred_fake_g"], preds["disc_pred_real"], gan_type)
    assert close(direct, expected)


def test_the_benchmark_configs_build_by_name_and_match_mmgeneration(preds):
    disc = build_loss({"type": "DiscAdversarialLoss", "gan_type": "ns", "data_info": DISC_INFO})
    gen = build_loss({"type": "GenAdversarialLoss", "gan_type": "ns", "data_info": GEN_INFO})
    assert (disc.loss_name(), gen.loss_name()) == ("loss_disc_adv", "loss_gen_adv")
    # MMGeneration's vanilla GANLoss, called term by term, gives the same objective.
    mmgen = build_loss({"type": "GANLoss", "gan_type": "vanilla"})
    d_real = mmgen(preds["disc_pred_real"], target_is_real=True, is_disc=True)
    d_fake = mmgen(preds["disc_pred_fake"], target_is_real=False, is_disc=True)
    assert torch.allclose(disc(preds), d_real + d_fake)
    assert torch.allclose(gen(preds), mmgen(preds["disc_pred_fake_g"], target_is_real=True))


@pytest.mark.parametrize("gan_type", ["lsgan", "wgan", "hinge"])
def test_same_objective_as_mmgeneration_gan_loss(gan_type, preds):
    mmgen = build_loss({"type": "GANLoss", "gan_type": gan_type})
    d_total = mmgen(preds["disc_pred_real"], True, True) + mmgen(
        preds["disc_pred_fake"], False, True
    )
    assert torch.allclose(DiscAdversarialLoss(gan_type, data_info=DISC_INFO)(preds), d_total)
    g_total = mmgen(preds["disc_pred_fake_g"], True, False)
    assert torch.allclose(GenAdversarialLoss(gan_type, data_info=GEN_INFO)(preds), g_total)


def test_wgan_logistic_ns_is_ns(preds):
    mmgen = build_loss({"type": "GANLoss", "gan_type": "wgan-logistic-ns"})
    d_total = mmgen(preds["disc_pred_real"], True, True) + mmgen(
        preds["disc_pred_fake"], False, True
    )
    assert torch.allclose(DiscAdversarialLoss("ns", data_info=DISC_INFO)(preds), d_total)


@pytest.mark.parametrize(
    ("gan_type", "expected"),
    [
        # real term 0.9 softplus(-1) + 0.1 softplus(1) = softplus(-1) + 0.1 (as softplus(x) -
        # softplus(-x) = x); the fake term (softplus(-1) + softplus(1)) / 2 is unchanged.
        ("ns", SP_1 + 0.1 + (SP_1 + SP1) / 2),
        ("minimax", SP_1 + 0.1 + (SP_1 + SP1) / 2),
        # (1 - 0.9)^2 + 1 = 1.01.
        ("lsgan", 1.01),
    ],
)
def test_one_sided_label_smoothing(gan_type, expected, preds):
    loss = DiscAdversarialLoss(gan_type, real_label=0.9, data_info=DISC_INFO)
    assert close(loss(preds), expected)
    assert "real_label=0.9" in repr(loss)


@pytest.mark.parametrize("gan_type", ["wgan", "hinge", "ragan", "ralsgan", "rahinge", "rpgan"])
def test_label_smoothing_is_refused_where_meaningless(gan_type):
    with pytest.raises(ConfigError, match="no real-sample label to smooth") as info:
        DiscAdversarialLoss(gan_type, real_label=0.9)
    assert info.value.where == "DiscAdversarialLoss.real_label"
    DiscAdversarialLoss(gan_type, real_label=1.0)  # the default value is fine


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.1, float("inf"), "0.9"])
def test_real_label_out_of_range(bad):
    with pytest.raises(ConfigError, match="real_label"):
        DiscAdversarialLoss("ns", real_label=bad)


@pytest.mark.parametrize("cls", [DiscAdversarialLoss, GenAdversarialLoss])
def test_unknown_type_lists_the_valid_ones(cls):
    with pytest.raises(ConfigError) as info:
        cls("non-saturating")
    assert info.value.where == f"{cls.__name__}.gan_type"
    for name in ADVERSARIAL_TYPES:
        assert repr(name) in str(info.value)
    with pytest.raises(ConfigError, match="Did you mean 'rahinge'"):
        cls("rahnige")


def test_functional_unknown_type():
    x = torch.zeros(2)
    with pytest.raises(ConfigError, match=r"disc_adversarial_loss.gan_type: must be one of"):
        disc_adversarial_loss(x, x, "vanilla")
    with pytest.raises(ConfigError, match=r"gen_adversarial_loss.gan_type: .*got 'vanilla'"):
        gen_adversarial_loss(x, gan_type="vanilla")
    with pytest.raises(ConfigError, match="label smoothing applies to"):
        disc_adversarial_loss(x, x, "hinge", real_label=0.9)


@pytest.mark.parametrize("gan_type", ["ragan", "ralsgan", "rahinge", "rpgan"])
def test_relativistic_gen_without_pred_real_fails_at_construction(gan_type):
    with pytest.raises(ConfigError, match="needs pred_real") as info:
        GenAdversarialLoss(gan_type, data_info=GEN_INFO)
    assert info.value.where == "GenAdversarialLoss.data_info"
    config = {"type": "GenAdversarialLoss", "gan_type": gan_type, "data_info": GEN_INFO}
    with pytest.raises(GanLossError, match="needs pred_real"):
        build_loss(config)


@pytest.mark.parametrize("gan_type", ["ragan", "ralsgan", "rahinge", "rpgan"])
def test_relativistic_gen_without_pred_real_fails_when_called_directly(gan_type):
    loss = GenAdversarialLoss(gan_type)
    with pytest.raises(ConfigError, match="needs pred_real") as info:
        loss(torch.zeros(2))
    assert info.value.where == "loss_gen_adv.pred_real"
    with pytest.raises(ConfigError, match="needs pred_real"):
        gen_adversarial_loss(torch.zeros(2), gan_type=gan_type)


def test_absolute_gen_types_ignore_pred_real(preds):
    with_real = GenAdversarialLoss("ns", data_info=GEN_INFO_RELATIVISTIC)(preds)
    assert close(with_real, GEN_EXPECTED["ns"])


def test_relativistic_gradients_flow_through_both_batch_means(preds):
    # RaLSGAN D = (x_r - mean(x_f) - 1)^2 + mean((x_f - mean(x_r) + 1)^2), at x_r = [1],
    # x_f = [-1, 1]: a = x_r - 0 - 1 = 0, b = x_f - 1 + 1 = [-1, 1].
    # With M = 2 fakes: dD/dx_r = 2a - (2 / M) sum(b) = 0 - 0 = 0, and
    # dD/dx_f_j = 2a * (-1 / M) + (2 / M) b_j = b_j -> [-1, 1].
    loss = DiscAdversarialLoss("ralsgan", data_info=DISC_INFO)
    loss(preds).backward()
    assert torch.allclose(preds["disc_pred_fake"].grad, torch.tensor([-1.0, 1.0]))
    assert torch.allclose(preds["disc_pred_real"].grad, torch.tensor([0.0]))


def test_gen_gradient_signs_push_fakes_towards_real(preds):
    # Every generator loss must fall as D(G(z)) rises: d/dx_f < 0 somewhere, > 0 nowhere,
    # at x_f = [0, 2] (saturating minimax: -sigmoid(x)/2; ns: -sigmoid(-x)/2).
    real = torch.tensor([1.0, 1.0])  # paired with x_f for rpgan
    for gan_type in ("minimax", "ns", "wgan", "hinge", "ragan", "rahinge", "rpgan"):
        x = preds["disc_pred_fake_g"].detach().clone().requires_grad_(True)
        GenAdversarialLoss(gan_type)(x, real).backward()
        assert (x.grad <= 0).all() and (x.grad < 0).any(), gan_type


def test_loss_weight_scales_and_names(preds):
    loss = DiscAdversarialLoss("hinge", loss_weight=0.5, loss_name="loss_d", data_info=DISC_INFO)
    assert close(loss(preds), 0.5)  # 0.5 * 1.0
    assert loss.loss_name() == "loss_d"
    assert GenAdversarialLoss("ns").loss_name() == "loss_gen_adv"
    assert DiscAdversarialLoss("ns").loss_name() == "loss_disc_adv"


def test_gen_loss_has_no_real_label_option():
    with pytest.raises(ConfigError, match="real_label"):
        build_loss({"type": "GenAdversarialLoss", "gan_type": "ns", "real_label": 0.9})


def test_multidimensional_inputs_of_different_batch_sizes():
    # Patch discriminators give (N, 1, H, W): hinge D over x_r = ones(2,1,2,2), x_f = zeros(3,1,2,2)
    # = relu(1 - 1) + relu(1 + 0) = 1.
    value = DiscAdversarialLoss("hinge")(torch.ones(2, 1, 2, 2), torch.zeros(3, 1, 2, 2))
    assert close(value, 1.0)


# -- relativistic pairing (RpGAN, Huang et al. 2024) -----------------------------------
# x_r = [1, 0], x_f = [-1, 2], paired by index: the differences x_r - x_f are [2, -2].
RP_REAL = torch.tensor([1.0, 0.0])
RP_FAKE = torch.tensor([-1.0, 2.0])


def test_rpgan_disc_pairs_each_real_with_its_fake():
    # mean(softplus(-(x_r - x_f))) = (softplus(-2) + softplus(2)) / 2.
    # (Against every fake, as the relativistic average would pair them, the mean over the
    # four pairs [2, -1, 1, -2] would be (SP_2 + SP1 + SP_1 + SP2) / 4: a different value.)
    expected = (SP_2 + SP2) / 2  # 1.1269280
    loss = DiscAdversarialLoss("rpgan", data_info={"pred_real": "r", "pred_fake": "f"})
    assert close(loss({"r": RP_REAL, "f": RP_FAKE}), expected)
    assert close(disc_adversarial_loss(RP_REAL, RP_FAKE, "rpgan"), expected)


def test_rpgan_gen_is_the_disc_loss_with_real_and_fake_swapped():
    # mean(softplus(-(x_f - x_r))) = (softplus(2) + softplus(-2)) / 2 at the pairs above;
    # at x_f = [0, 3], x_r = [1, 0]: x_f - x_r = [-1, 3], (softplus(1) + softplus(-3)) / 2.
    sp_3 = math.log1p(math.exp(-3.0))
    loss = GenAdversarialLoss("rpgan", data_info={"pred_fake": "f", "pred_real": "r"})
    assert close(loss({"f": torch.tensor([0.0, 3.0]), "r": RP_REAL}), (SP1 + sp_3) / 2)
    assert close(gen_adversarial_loss(RP_FAKE, RP_REAL, "rpgan"), (SP2 + SP_2) / 2)


def test_rpgan_gradients_pair_the_samples():
    # d/dx_r_i mean(softplus(x_f - x_r)) = -sigmoid(x_f_i - x_r_i) / N, and +that for x_f_i:
    # at differences x_f - x_r = [-2, 2]: -[sigmoid(-2), sigmoid(2)] / 2.
    real = RP_REAL.clone().requires_grad_(True)
    fake = RP_FAKE.clone().requires_grad_(True)
    DiscAdversarialLoss("rpgan")(real, fake).backward()
    sig = torch.sigmoid(torch.tensor([-2.0, 2.0]))
    assert torch.allclose(real.grad, -sig / 2)
    assert torch.allclose(fake.grad, sig / 2)


def test_rpgan_refuses_batches_it_cannot_pair():
    # (2,) against (3,) would broadcast to nothing sensible, (2, 1) against (2,) to a 2x2 grid.
    for fake in (torch.zeros(3), torch.zeros(2, 1)):
        with pytest.raises(LossInputError, match=r"pairs real and fake samples one to one"):
            DiscAdversarialLoss("rpgan")(RP_REAL, fake)
        with pytest.raises(LossInputError, match=r"must have the same shape"):
            GenAdversarialLoss("rpgan")(fake, RP_REAL)


def test_inputs_that_are_not_floating_tensors_name_the_loss_and_key():
    # checked once by the protocol, from compute's annotations (issue 14.5)
    loss = DiscAdversarialLoss("ns", data_info=DISC_INFO)
    outputs = {"disc_pred_real": torch.zeros(2), "disc_pred_fake": torch.zeros(2, dtype=torch.long)}
    with pytest.raises(LossInputError, match=r"pred_fake: .*outputs\['disc_pred_fake'\], got a"):
        loss(outputs)
    with pytest.raises(LossInputError, match=r"loss_gen_adv.pred_fake: .*got NoneType None"):
        GenAdversarialLoss("ns")(None)


@pytest.mark.parametrize("gan_type", ["ns", "ragan", "rpgan"])
def test_a_loss_holds_its_function_and_still_pickles_copies_and_compiles(gan_type):
    import copy
    import pickle

    disc = DiscAdversarialLoss(gan_type, data_info={"pred_real": "r", "pred_fake": "f"})
    gen = GenAdversarialLoss(gan_type, data_info={"pred_fake": "f", "pred_real": "r"})
    outputs = {"r": torch.tensor([1.0, 0.0]), "f": torch.tensor([-1.0, 2.0])}
    for loss in (disc, gen):
        expected = loss(outputs)
        for clone in (pickle.loads(pickle.dumps(loss)), copy.deepcopy(loss)):
            assert torch.equal(clone(outputs), expected)
        compiled = torch.compile(loss, backend="eager", fullgraph=True)
        assert torch.allclose(compiled(outputs), expected)
