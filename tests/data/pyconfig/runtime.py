"""A second base: settings no loss reads."""

total_iters = 2**10
optimizer = dict(generator=dict(type="Adam", lr=0.0001, betas=(0.0, 0.99)))
