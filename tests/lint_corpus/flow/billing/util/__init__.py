"""Utilities, re-exported from their modules (and again from the package above)."""

from .clock import elapsed, stamp
from .ids import new_reference

__all__ = ["elapsed", "new_reference", "stamp"]
