"""A billing app: helpers live in subpackages and are re-exported from here."""

from .clients import PaymentClient
from .config import ROOT, Flags
from .util import stamp

__all__ = ["ROOT", "Flags", "PaymentClient", "stamp"]
