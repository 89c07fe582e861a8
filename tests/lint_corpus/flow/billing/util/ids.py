"""Reference numbers built with numpy's global generator."""

import numpy as np


def new_reference(prefix: str) -> str:
    return f"{prefix}-{np.random.randint(0, 10**6)}"  # expect: DBOS101
