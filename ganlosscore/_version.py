"""Versions, in the one place they are written (``pyproject.toml`` reads this file).

``PROTOCOL_VERSION`` is the version of the loss protocol this core implements
(what a loss class may rely on: ``compute``, ``weight_loss``, ``data_info``,
``interval``). A plugin declares the protocol it was built for with an entry
point in the group ``ganlosscore.protocol`` whose name is the version and whose
value is its package (``"1" = "ganloss_foo"``); the core reads it from
metadata, without importing the plugin.
"""

__version__ = "0.1.0"

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOLS: frozenset[int] = frozenset({1})
