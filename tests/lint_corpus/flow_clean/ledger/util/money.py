"""Pure functions, and an alias of one."""

import decimal

_quantize = decimal.Decimal.quantize


def fmt_amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def parse_amount(text: str) -> int:
    return int(decimal.Decimal(text) * 100)
