d_reg_interval = 4
import os  # noqa: E402, F401 (an import is what this file tests)

model = dict(type="X")
