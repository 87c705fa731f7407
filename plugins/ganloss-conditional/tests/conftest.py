from __future__ import annotations

import sys
from pathlib import Path

# The reference formulas live in helpers/ (which holds no conftest), under a unique module name.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
