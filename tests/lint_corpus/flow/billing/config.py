"""Configuration: a module-level root path, environment aliases and feature flags."""

import os
from os import environ as E
from pathlib import Path

ROOT = Path(__file__).parent
RATES = ROOT / "rates.json"


class Flags:
    def __init__(self, prefix: str = "BILLING_") -> None:
        self.prefix = prefix

    def enabled(self, name: str) -> bool:
        return os.environ.get(self.prefix + name) == "1"  # expect: DBOS401


def region() -> str:
    return E.get("REGION", "eu")  # expect: DBOS401
