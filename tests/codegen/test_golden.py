"""Golden files: the exact text generated for each module of the fixture project. After an
intended change of the output, regenerate them with ``DBOS_UPDATE_GOLDEN=1 pytest tests/codegen``
and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from build_support import FIXTURES

from dbos_compile.codegen.render import generate

GOLDEN = Path(__file__).parent / "golden"
MODULES = ["shop/orders.py", "shop/billing.py", "shop/aio.py"]


@pytest.mark.parametrize("module", MODULES)
def test_generated_text_matches_the_golden_file(module: str) -> None:
    generated = generate((FIXTURES / module).read_bytes(), module, f"../../src/{module}")
    assert generated is not None
    golden = GOLDEN / f"{module.replace('/', '__')}.golden"
    if os.environ.get("DBOS_UPDATE_GOLDEN"):
        golden.write_text(generated.text, encoding="utf-8", newline="\n")
    assert generated.text == golden.read_text(encoding="utf-8")


def test_modules_without_dbos_functions_are_not_generated() -> None:
    assert generate((FIXTURES / "shop/util/money.py").read_bytes(), "m.py", "m.py") is None


def test_the_compiler_targets_the_runtime_abi() -> None:
    from dbos._compiled import ABI as RUNTIME_ABI
    from dbos_compile.codegen.render import ABI

    assert ABI == RUNTIME_ABI
