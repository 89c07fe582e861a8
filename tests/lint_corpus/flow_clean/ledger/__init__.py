"""Look-alikes of the billing app's problems, all deterministic: nothing here may be flagged."""

from .clients import LedgerClient
from .config import ROOT, Flags
from .util import fmt_amount

__all__ = ["ROOT", "Flags", "LedgerClient", "fmt_amount"]
