"""Configuration read once at import time (the advice for host state), and paths only built."""

import os
from os import environ as E
from pathlib import Path

ROOT = Path(__file__).parent
REGION = E.get("REGION", "eu")
DEBUG = os.environ.get("DEBUG") == "1"
DEFAULTS = {"currency": "EUR"}


class Flags:
    def __init__(self, enabled: frozenset[str] = frozenset()) -> None:
        self.names = enabled

    def enabled(self, name: str) -> bool:
        return name in self.names


def rates_path(name: str) -> Path:
    return (ROOT / name).with_suffix(".json")
