"""DDPMMSELoss and DDPMVLBLoss: values, rescaling, data_info and the quartile logs."""

import math

import pytest
import torch
from ganloss_diffusion import DDPMMSELoss, DDPMVLBLoss

from ganlosscore import ConfigError, LossInputError

LN2 = math.log(2.0)


def _page_phi(x: float) -> float:
    return 0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def mse_outputs(timesteps=(0, 1, 2, 7)):
    # sample n has error n + 1 everywhere: per-sample MSE 1, 4, 9, 16
    n = len(timesteps)
    pred = torch.arange(1.0, n + 1).reshape(n, 1, 1).expand(n, 2, 3).clone()
    return {"eps_t_pred": pred, "noise": torch.zeros(n, 2, 3), "timesteps": torch.tensor(timesteps)}


# -- DDPMMSELoss -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reduction", "expected"),
    [("mean", 30 / 4), ("sum", 30.0), ("batchmean", 30 / 4), ("none", [1.0, 4.0, 9.0, 16.0])],
)
def test_mse_per_sample_flatmean_then_reduction(reduction, expected):
    value = DDPMMSELoss(reduction=reduction)(mse_outputs())
    torch.testing.assert_close(value, torch.tensor(expected))


def test_mse_default_data_info_and_name():
    loss = DDPMMSELoss()
    assert loss.data_info == {"pred": "eps_t_pred", "target": "noise", "timesteps": "timesteps"}
    assert loss.loss_name() == "loss_ddpm_mse"


def test_mse_mmgeneration_data_info_gets_timesteps():
    # an MMGeneration config maps only pred and target; timesteps is read implicitly
    loss = DDPMMSELoss(data_info={"pred": "v_t_pred", "target": "v_t"})
    assert loss.data_info == {"timesteps": "timesteps", "pred": "v_t_pred", "target": "v_t"}
    o = mse_outputs()
    assert (
        loss({"v_t_pred": o["eps_t_pred"], "v_t": o["noise"], "timesteps": o["timesteps"]}).item()
        == 7.5
    )


def test_mse_direct_call_with_data_info_false():
    o = mse_outputs()
    loss = DDPMMSELoss(data_info=False)
    assert loss.data_info is None
    assert loss(o["eps_t_pred"], o["noise"], o["timesteps"]).item() == 7.5


def test_constant_rescale():
    # per-sample 1, 4, 9, 16 times 2, mean 15
    loss = DDPMMSELoss(rescale_mode="constant", rescale_cfg={"scale": 2.0})
    assert loss(mse_outputs()).item() == 15.0


def test_timestep_weight_rescale_with_weight_and_scale():
    weight = torch.tensor([1.0, 0.5, 2.0, 0, 0, 0, 0, 10.0])
    loss = DDPMMSELoss(rescale_mode="timestep_weight", weight=weight, rescale_cfg={"scale": 3.0})
    # timesteps 0, 1, 2, 7: 1*1 + 4*0.5 + 9*2 + 16*10 = 181, times 3, mean over 4
    assert loss(mse_outputs()).item() == pytest.approx(181 * 3 / 4)
    # an in-place update of the weights is seen on the next call
    weight[7] = 0.0
    assert loss(mse_outputs()).item() == pytest.approx(21 * 3 / 4)


def test_timestep_weight_is_read_from_the_sampler_each_call():
    class Sampler:
        weight = torch.ones(8)

    sampler = Sampler()
    loss = DDPMMSELoss(rescale_mode="timestep_weight", sampler=sampler)
    assert loss(mse_outputs()).item() == 7.5
    sampler.weight = torch.full((8,), 2.0)  # re-assigned, not in place
    assert loss(mse_outputs()).item() == 15.0


def test_weights_from_a_config_list():
    loss = DDPMMSELoss(rescale_mode="timestep_weight", weight=[0.0] * 7 + [1.0])
    # only timestep 7 (per-sample 16) counts: 16 / 4
    assert loss(mse_outputs()).item() == 4.0


# -- quartile logging ----------------------------------------------------------------


def test_quartile_logs_mmgeneration_config():
    loss = DDPMMSELoss(
        log_cfgs=dict(type="quartile", prefix_name="loss_mse", total_timesteps=8),
        rescale_mode="constant",
        rescale_cfg={"scale": 100.0},
    )
    loss(mse_outputs())
    logs = loss.extra_log_vars
    # timesteps 0, 1, 2, 7 of 8: quartiles floor(4t/8) = 0, 0, 1, 3
    # per-sample (unrescaled) 1, 4 | 9 | - | 16
    expected = {
        "mse_quartile_0": 2.5,
        "mse_quartile_0_count": 2.0,
        "mse_quartile_1": 9.0,
        "mse_quartile_1_count": 1.0,
        "mse_quartile_2": 0.0,  # no sample: 0, and its count says so
        "mse_quartile_2_count": 0.0,
        "mse_quartile_3": 16.0,
        "mse_quartile_3_count": 1.0,
    }
    assert {k: v.item() for k, v in logs.items()} == expected
    assert all(v.ndim == 0 and not v.requires_grad for v in logs.values())
    assert not any("loss" in k for k in logs)


def test_quartile_logs_every_key_even_for_a_one_quartile_batch():
    loss = DDPMMSELoss(log_cfgs=dict(type="quartile", total_timesteps=1000))
    loss(mse_outputs(timesteps=(999, 998, 990, 750)))
    # default prefix: the loss name without 'loss_'
    keys = {f"ddpm_mse_quartile_{i}{s}" for i in range(4) for s in ("", "_count")}
    assert set(loss.extra_log_vars) == keys
    assert loss.extra_log_vars["ddpm_mse_quartile_3"].item() == 7.5
    assert loss.extra_log_vars["ddpm_mse_quartile_3_count"].item() == 4.0
    for i in range(3):
        assert loss.extra_log_vars[f"ddpm_mse_quartile_{i}"].item() == 0.0


def test_quartile_sum_reduction():
    loss = DDPMMSELoss(log_cfgs=dict(type="quartile", total_timesteps=8, reduction="sum"))
    loss(mse_outputs())
    # quartile 0 holds samples 1 and 4: sum 5
    assert loss.extra_log_vars["ddpm_mse_quartile_0"].item() == 5.0


def test_loss_reduction_sum_is_the_log_default_as_in_mmgeneration():
    loss = DDPMMSELoss(reduction="sum", log_cfgs=dict(type="quartile", total_timesteps=8))
    loss(mse_outputs())
    assert loss.extra_log_vars["ddpm_mse_quartile_0"].item() == 5.0


def test_logs_are_unweighted_by_loss_weight_and_rescale_as_in_mmgeneration():
    # MMGeneration logs the per-sample loss before rescaling and has no loss_weight;
    # here loss_weight (like rescale_mode) scales only the returned value.
    plain = DDPMMSELoss(log_cfgs=dict(type="quartile", total_timesteps=8))
    weighted = DDPMMSELoss(
        loss_weight=0.5,
        rescale_mode="constant",
        rescale_cfg={"scale": 4.0},
        log_cfgs=dict(type="quartile", total_timesteps=8),
    )
    # per-sample 1, 4, 9, 16: mean 7.5; weighted: 0.5 * 4 * 7.5 = 15
    assert plain(mse_outputs()).item() == 7.5
    assert weighted(mse_outputs()).item() == 15.0
    assert {k: v.item() for k, v in weighted.extra_log_vars.items()} == {
        k: v.item() for k, v in plain.extra_log_vars.items()
    }
    # quartile 0 holds per-sample 1 and 4: 2.5, not 0.5 * 2.5 nor 0.5 * 4 * 2.5
    assert weighted.extra_log_vars["ddpm_mse_quartile_0"].item() == 2.5


def test_half_precision_logs_count_in_float32():
    # float16 holds integers exactly only up to 2048; counts are summed in float32
    loss = DDPMMSELoss(log_cfgs=dict(type="quartile", total_timesteps=1))
    n = 2049
    pred, target = torch.ones(n, 1, dtype=torch.float16), torch.zeros(n, 1, dtype=torch.float16)
    outputs = {"eps_t_pred": pred, "noise": target, "timesteps": torch.zeros(n, dtype=torch.long)}
    loss(outputs)
    assert loss.extra_log_vars["ddpm_mse_quartile_0_count"].item() == 2049.0
    assert loss.extra_log_vars["ddpm_mse_quartile_0"].item() == 1.0


def test_no_log_cfgs_no_extra_logs():
    loss = DDPMMSELoss()
    loss(mse_outputs())
    assert loss.extra_log_vars == {}


# -- DDPMVLBLoss -------------------------------------------------------------------


def vlb_outputs(timesteps=(0, 5)):
    n = len(timesteps)
    shape = (n, 2, 3)
    return {
        # at t != 0: KL(N(0, 1) || N(1, 1)) = 0.5 nats per dimension
        "mean_pred": torch.ones(shape, dtype=torch.float64),
        "mean_target": torch.zeros(shape, dtype=torch.float64),
        "logvar_pred": torch.zeros(shape, dtype=torch.float64),
        "logvar_target": torch.zeros(shape, dtype=torch.float64),
        # at t = 0: x = 0 in an interior bin, under N(mean_pred = 1, 1)
        "real_imgs": torch.zeros(shape, dtype=torch.float64),
        "timesteps": torch.tensor(timesteps),
    }


# -log2 of the bin probability of x = 0 under N(1, 1): Phi((0 - 1 + 1/255)) - Phi((0 - 1 - 1/255))
NLL_T0_BITS = -math.log(_page_phi(-1 + 1 / 255) - _page_phi(-1 - 1 / 255)) / LN2
KL_BITS = 0.5 / LN2


def test_vlb_terms_by_timestep():
    loss = DDPMVLBLoss(reduction="none")
    assert loss.loss_name() == "loss_ddpm_vlb"
    per_sample = loss(vlb_outputs((0, 5, 3)))
    torch.testing.assert_close(
        per_sample, torch.tensor([NLL_T0_BITS, KL_BITS, KL_BITS], dtype=torch.float64)
    )
    mean = DDPMVLBLoss()(vlb_outputs((0, 5, 3)))
    assert mean.item() == pytest.approx((NLL_T0_BITS + 2 * KL_BITS) / 3)


def test_vlb_default_data_info_is_mmgenerations():
    assert DDPMVLBLoss().data_info == {
        "timesteps": "timesteps",
        "mean_pred": "mean_pred",
        "mean_target": "mean_target",
        "logvar_pred": "logvar_pred",
        "logvar_target": "logvar_target",
        "x": "real_imgs",
        "mean": "mean_pred",
        "logvar": "logvar_pred",
    }


def test_vlb_mmgeneration_config_data_info():
    # MMGeneration's Improved DDPM config maps the KL inputs only; t = 0 uses the default
    loss = DDPMVLBLoss(
        data_info=dict(
            mean_pred="mean_pred",
            mean_target="mean_posterior",
            logvar_pred="logvar_pred",
            logvar_target="logvar_posterior",
        )
    )
    o = vlb_outputs()
    o["mean_posterior"], o["logvar_posterior"] = o.pop("mean_target"), o.pop("logvar_target")
    assert loss(o).item() == pytest.approx((NLL_T0_BITS + KL_BITS) / 2)


def test_vlb_data_info_t_0_separate_mean():
    loss = DDPMVLBLoss(data_info_t_0={"x": "real_imgs", "mean": "x0_mean", "logvar": "logvar_pred"})
    o = vlb_outputs()
    o["x0_mean"] = torch.zeros(2, 2, 3, dtype=torch.float64)
    # t = 0 now has x = mean = 0: -log2(Phi(1/255) - Phi(-1/255))
    nll = -math.log(_page_phi(1 / 255) - _page_phi(-1 / 255)) / LN2
    assert loss(o).item() == pytest.approx((nll + KL_BITS) / 2)


def test_vlb_direct_call_defaults_t0_mean_to_mean_pred():
    o = vlb_outputs()
    loss = DDPMVLBLoss(data_info=False)
    args = [o[k] for k in ("mean_pred", "mean_target", "logvar_pred", "logvar_target", "real_imgs")]
    assert loss(*args, o["timesteps"]).item() == pytest.approx((NLL_T0_BITS + KL_BITS) / 2)


def test_vlb_trains_only_the_variance():
    o = vlb_outputs((0, 5))
    for key in ("mean_pred", "logvar_pred"):
        o[key].requires_grad_(True)
    DDPMVLBLoss()(o).backward()
    assert o["mean_pred"].grad is None
    assert o["logvar_pred"].grad is not None
    # KL row (t = 5): d/dv_p 0.5 (-1 + v_p + e^-v_p + e^-v_p) / ln2 at v_p = 0 = -0.5 / ln2
    # per element, / 6 elements (flatmean), / 2 samples (mean)
    torch.testing.assert_close(
        o["logvar_pred"].grad[1], torch.full((2, 3), -0.5 / LN2 / 12, dtype=torch.float64)
    )


def test_vlb_name_and_quartile_logs():
    loss = DDPMVLBLoss(
        log_cfgs=[
            dict(type="quartile", prefix_name="loss_vlb", total_timesteps=8),
            dict(type="name"),
        ]
    )
    loss(vlb_outputs((0, 5, 7)))
    logs = {k: v.item() for k, v in loss.extra_log_vars.items()}
    # quartiles of 0, 5, 7 out of 8: 0, 2, 3
    assert logs["vlb_quartile_0"] == pytest.approx(NLL_T0_BITS)
    assert logs["vlb_quartile_1"] == 0.0
    assert logs["vlb_quartile_1_count"] == 0.0
    assert logs["vlb_quartile_2"] == pytest.approx(KL_BITS)
    assert logs["vlb_quartile_3"] == pytest.approx(KL_BITS)
    # 'name' with MMGeneration's default prefix 'loss': the loss name without 'loss_'
    assert logs["ddpm_vlb_DiscGaussianLogLikelihood"] == pytest.approx(NLL_T0_BITS)
    assert logs["ddpm_vlb_DiscGaussianLogLikelihood_count"] == 1.0
    assert logs["ddpm_vlb_GaussianKLD"] == pytest.approx(KL_BITS)
    assert logs["ddpm_vlb_GaussianKLD_count"] == 2.0
    assert len(logs) == 8 + 4


# -- bad configs and inputs -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "hyper", "where", "match"),
    [
        (
            DDPMMSELoss,
            {"rescale_mode": "linear"},
            "rescale_mode",
            "must be one of 'constant', 'timestep_weight'; got 'linear'",
        ),
        (DDPMMSELoss, {"rescale_mode": "constant"}, "rescale_cfg", "dict\\(scale=<number>\\)"),
        (
            DDPMMSELoss,
            {"rescale_mode": "constant", "rescale_cfg": {"factor": 2}},
            "rescale_cfg",
            "'factor'",
        ),
        (
            DDPMMSELoss,
            {"rescale_mode": "timestep_weight"},
            "weight",
            "needs the per-timestep weights",
        ),
        (DDPMMSELoss, {"reduction": "avg"}, "reduction", "'batchmean', 'flatmean'; got 'avg'"),
        (
            DDPMMSELoss,
            {"log_cfgs": dict(type="quartile")},
            "log_cfgs[0].total_timesteps",
            "must be an integer >= 1, got None",
        ),
        (
            DDPMMSELoss,
            {"log_cfgs": dict(type="name")},
            "log_cfgs[0].type",
            "must be one of 'quartile'; got 'name'",
        ),
        (
            DDPMMSELoss,
            {"log_cfgs": dict(type="quartile", total_timesteps=8, prefix_name="loss_my_loss")},
            "log_cfgs[0].prefix_name",
            "contains 'loss'",
        ),
        (
            DDPMMSELoss,
            {"log_cfgs": dict(type="quartile", total_timesteps=8, every=2)},
            "log_cfgs[0]",
            "'every'",
        ),
        (
            DDPMMSELoss,
            {"log_cfgs": [dict(type="quartile", total_timesteps=8)] * 2},
            "log_cfgs[1].prefix_name",
            "both log",
        ),
        (DDPMMSELoss, {"log_cfgs": "quartile"}, "log_cfgs", "a dict or a list of dicts"),
        (DDPMMSELoss, {"data_info": True}, None, "data_info must map each input"),
        (
            DDPMVLBLoss,
            {"data_info": False, "data_info_t_0": {"x": "img"}},
            "data_info_t_0",
            "no mapping",
        ),
        (
            DDPMVLBLoss,
            {"data_info_t_0": {"mean_pred": "m"}},
            "data_info_t_0.mean_pred",
            "t = 0 term",
        ),
        (
            DDPMVLBLoss,
            {"data_info": {**DDPMVLBLoss.default_data_info, "x": "a"}, "data_info_t_0": {"x": "b"}},
            "data_info_t_0.x",
            "map it in one place",
        ),
    ],
)
def test_bad_config(cls, hyper, where, match):
    with pytest.raises(ConfigError, match=match) as info:
        cls(**hyper)
    # the core checks data_info itself, at the key data_info
    assert info.value.where == ("data_info" if where is None else f"{cls.__name__}.{where}")


def test_timesteps_must_match_the_batch():
    o = mse_outputs()
    o["timesteps"] = torch.tensor([1, 2])
    with pytest.raises(LossInputError, match="2 timesteps for a batch of 4"):
        DDPMMSELoss()(o)


def test_vlb_inputs_need_a_batch_dimension():
    o = vlb_outputs()
    o["logvar_target"] = torch.zeros(2, 3, dtype=torch.float64)[0]
    with pytest.raises(LossInputError, match="logvar_target has shape \\(3,\\)"):
        DDPMVLBLoss()(o)
