"""Pure utilities re-exported twice, like the billing app's clock helpers."""

from .money import fmt_amount, parse_amount

__all__ = ["fmt_amount", "parse_amount"]
