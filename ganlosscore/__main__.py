"""``python -m ganlosscore``: the ``ganloss`` command, where its script is not on PATH."""

import sys

from .cli import main

sys.exit(main())
