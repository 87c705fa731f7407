# A base file in MMCV's style: a model whose losses are local test losses.
d_reg_interval = 4
domain = None  # set by the config that uses this base

model = dict(
    type="PairGAN",
    gan_loss=dict(type="ShiftLoss", loss_weight=1.0),
    disc_auxiliary_loss=dict(
        type="ShiftLoss",
        loss_weight=10.0 / 2.0 * d_reg_interval,
        interval=d_reg_interval,
        data_info=dict(pred="disc_pred_real"),
    ),
    gen_auxiliary_loss=None,
    generator=dict(type="NotALoss", channels=64),
)
train_cfg = dict(buffer_size=50)
