from __future__ import annotations

import sys
from pathlib import Path

# Helper modules live in helpers/ (no conftest there), under names unique to this package.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))
