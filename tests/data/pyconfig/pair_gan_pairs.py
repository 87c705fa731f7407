_base_ = ["./models/pair_gan.py", "runtime.py"]

domain_a = "photo"
scale = -0.5
model = dict(
    disc_auxiliary_loss=dict(loss_weight=2 * 3),
    gen_auxiliary_loss=[
        dict(
            type="PairLoss",
            scale=scale * -4,
            loss_name="cycle_loss",
            data_info=dict(a=f"cycle_{domain_a}", b=f"real_{domain_a}"),
        ),
        dict(
            type="PairLoss",
            loss_name="id_loss",
            data_info=dict(a=f"identity_{domain_a}", b=f"real_{domain_a}"),
        ),
    ],
)
optimizer = dict(generator=dict(_delete_=True, type="SGD", lr=max(0.01, 1e-3)))
