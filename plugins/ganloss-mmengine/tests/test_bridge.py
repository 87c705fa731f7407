"""ganlosscore's losses built through MMEngine's registry."""

from __future__ import annotations

import itertools

import pytest
import torch
from ganloss_adversarial import GANLoss
from ganloss_mmengine import GANLOSS_MODELS, SCOPE, register_losses, registration
from ganloss_regularizers import R1GradientPenalty
from mmengine.config import Config
from mmengine.registry import MODELS, Registry

from ganlosscore import ConfigError, LossModule, available_losses

_scopes = itertools.count()


def test_every_installed_loss_is_registered_under_both_names():
    names = {record.name for record in available_losses()}
    assert set(registration.scoped) == names
    assert set(registration.plain) == names  # MMEngine itself has no module of these names
    assert registration.taken == {}
    assert all(name in MODELS.module_dict for name in names)
    assert set(GANLOSS_MODELS.module_dict) >= names
    assert GANLOSS_MODELS.scope == SCOPE == "ganloss"


@pytest.mark.parametrize("type_", ["R1GradientPenalty", "ganloss.R1GradientPenalty"])
def test_models_build_returns_our_module(type_):
    loss = MODELS.build(
        dict(type=type_, loss_weight=0.5, norm_mode="HWC",
             data_info=dict(real_data="real_imgs", discriminator="disc"))
    )  # fmt: skip
    assert type(loss) is R1GradientPenalty
    assert loss.loss_weight == 0.5 and loss.norm_mode == "HWC"


def test_a_loss_built_from_an_mmengine_config_file_computes(tmp_path):
    path = tmp_path / "gan.py"
    path.write_text(
        "custom_imports = dict(imports=['ganloss_mmengine'], allow_failed_imports=False)\n"
        "model = dict(\n"
        "    gan_loss=dict(type='ganloss.GANLoss', gan_type='hinge'),\n"
        "    disc_auxiliary_loss=dict(type='R1GradientPenalty', loss_weight=0.5,\n"
        "        norm_mode='HWC', data_info=dict(real_data='real_imgs', discriminator='disc')))\n"
    )
    cfg = Config.fromfile(str(path))
    gan_loss = MODELS.build(cfg.model.gan_loss)
    assert type(gan_loss) is GANLoss and gan_loss.gan_type == "hinge"
    r1 = MODELS.build(cfg.model.disc_auxiliary_loss)  # data_info arrives as MMEngine's ConfigDict
    disc = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1))
    with torch.no_grad():
        disc[1].weight.copy_(torch.tensor([[1.0, 2.0, 0.0, 0.0]]))
    # d disc / d x = (1, 2, 0, 0) for every sample: HWC norm 1 + 4 = 5, mean 5, weighted 2.5
    value = r1(dict(real_imgs=torch.randn(2, 1, 2, 2), disc=disc))
    assert value.item() == pytest.approx(2.5)


def test_config_errors_are_ganlosscores():
    with pytest.raises(ConfigError, match="no option 'gan_tpye'. Did you mean 'gan_type'"):
        MODELS.build(dict(type="GANLoss", gan_tpye="hinge"))


def test_in_a_child_scope_with_its_own_loss_the_ganloss_prefix_selects_ours():
    # MMagic's registry is a child of the root with its own GANLoss; MMEngine looks there first.
    magic = Registry("model", parent=MODELS, scope=f"magiclike{next(_scopes)}")

    @magic.register_module(name="GANLoss")
    class TheirGANLoss(torch.nn.Module):
        def __init__(self, gan_type):
            super().__init__()

    assert type(magic.build(dict(type="GANLoss", gan_type="hinge"))) is TheirGANLoss
    assert type(magic.build(dict(type="ganloss.GANLoss", gan_type="hinge"))) is GANLoss


class ExponentialMovingAverage(LossModule):
    """A local loss named like a module MMEngine registers itself."""

    default_loss_name = "loss_ema"

    def compute(self, pred):
        return pred.mean()


def test_a_name_mmengine_already_has_stays_mmengines(ganloss_registry):
    theirs = MODELS.get("ExponentialMovingAverage")  # MMEngine's, loaded on first use
    assert theirs is not None
    ganloss_registry.register(ExponentialMovingAverage)
    again = register_losses()
    assert again.taken == {
        "ExponentialMovingAverage": "mmengine.model.averaged_model.ExponentialMovingAverage"
    }
    assert "ExponentialMovingAverage" not in again.plain
    assert MODELS.get("ExponentialMovingAverage") is theirs
    ours = MODELS.build(dict(type="ganloss.ExponentialMovingAverage"))
    assert type(ours) is ExponentialMovingAverage


def test_registering_again_is_idempotent_and_adds_local_losses(ganloss_registry):
    class LocalDriftLoss(LossModule):
        default_loss_name = "loss_local_drift"

        def compute(self, pred):
            return (pred**2).mean()

    ganloss_registry.register(LocalDriftLoss)
    again = register_losses()
    assert set(again.plain) == set(registration.plain) | {"LocalDriftLoss"}
    loss = MODELS.build(dict(type="LocalDriftLoss", data_info=dict(pred="disc_pred_real")))
    assert loss(dict(disc_pred_real=torch.tensor([1.0, 3.0]))).item() == 5.0  # (1 + 9) / 2
