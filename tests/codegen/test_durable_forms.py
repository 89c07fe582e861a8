"""The code generator and the checker agree on what is durable: the generator asks the
checker's index (``dbos_lint.ModuleDeclarations``), so a function is compiled as a workflow
exactly when ``dbos-compile check`` checks it as one, however its decorator is spelled, and
code compiled from an aliased decorator runs like the decorated code."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from build_support import compile_cli, run_python

from dbos_compile.codegen.render import generate
from dbos_compile.codegen.shape import module_shapes
from dbos_lint import check_source

_BODY = """
    @DBOS.step()
    def st() -> int:
        return 1

    {decorator}
    def wf() -> float:
        st()
        return time.time()
"""

#: (how the module names DBOS, the workflow's decorator, is ``wf`` a workflow)
FORMS = {
    "import-from": ("from dbos import DBOS", "@DBOS.workflow()", True),
    "module-alias": ("import dbos as d\nDBOS = d.DBOS", "@d.DBOS.workflow()", True),
    "star-import": ("from dbos import *", "@DBOS.workflow()", True),
    "decorator-alias": ("from dbos import DBOS\nworkflow = DBOS.workflow()", "@workflow", True),
    "class-alias": ("from dbos import DBOS\nD = DBOS", "@D.workflow()", True),
    "guarded-import": (
        "try:\n    from dbos import DBOS\nexcept ImportError:\n    raise",
        "@DBOS.workflow()",
        True,
    ),
    "rebound-name": (
        "from dbos import DBOS\nDBOS = __import__('types').SimpleNamespace()",
        "@DBOS.workflow()",
        False,
    ),
    "local-class": (
        "class DBOS:\n    workflow = step = staticmethod(lambda: lambda f: f)",
        "@DBOS.workflow()",
        False,
    ),
}


def _source(head: str, decorator: str) -> str:
    body = textwrap.dedent(_BODY).format(decorator=decorator)
    return f"import time\n{head}\n{body}"


@pytest.mark.parametrize("form", list(FORMS))
def test_the_generator_compiles_what_the_checker_checks_as_a_workflow(form: str) -> None:
    head, decorator, durable = FORMS[form]
    source = _source(head, decorator)
    checked_as_workflow = any(
        f.code == "DBOS111" and f.workflow == "wf" for f in check_source(source)
    )
    compiled_as_workflow = "wf" in module_shapes(source.encode())
    assert checked_as_workflow is compiled_as_workflow is durable
    generated = generate(source.encode(), "m.py", "m.py")
    if durable:
        assert generated is not None
        # The workflow's decorator is the one relocated, whatever its spelling ...
        text = generated.text
        assert f"@_dbos_rt.located({decorator.removeprefix('@')}, " in text
        # ... and its step call goes straight to the checkpoint core.
        assert "\n    _dbos_step_st((), {})\n" in text


_ALIASED_APP = '''
"""Durable functions declared through aliases of the DBOS decorators."""

import json
import os
import sys

from dbos import DBOS, SetWorkflowID

D = DBOS
retrying = DBOS.step(retries_allowed=True, name="fetch-price")
workflow = D.workflow


@retrying
def price(item: str) -> int:
    return {"tea": 4, "cake": 7}[item]


@workflow(name="checkout")
def checkout(items: list[str]) -> int:
    return sum(price(item) for item in items)


def main() -> None:
    DBOS(config={"name": "aliases", "system_database_url": os.environ["APP_DATABASE_URL"]})
    DBOS.launch()
    with SetWorkflowID(sys.argv[1]):
        total = checkout(["tea", "cake", "tea"])
    steps = [s["function_name"] for s in DBOS.list_workflow_steps(sys.argv[1])]
    name = DBOS.get_workflow_status(sys.argv[1]).name
    print(json.dumps({"total": total, "workflow": name, "steps": steps}))
    DBOS.destroy()


if __name__ == "__main__":
    main()
'''


def test_code_compiled_from_aliased_decorators_runs_like_the_decorated_code(
    system_database_url: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "aliases.py").write_text(_ALIASED_APP.lstrip("\n"), encoding="utf-8")
    built = compile_cli("build", "src", "--out", "out", cwd=tmp_path)
    assert built.returncode == 0, built.stdout + built.stderr
    text = (tmp_path / "out" / "aliases.py").read_text(encoding="utf-8")
    assert '@_dbos_rt.located(retrying, "_dbos_step_price")' in text
    assert "_dbos_rt.located(workflow(name=" in text
    results = {}
    for mode, path in (("decorated", src), ("generated", tmp_path / "out")):
        env = {"APP_DATABASE_URL": system_database_url}
        ran = run_python("-m", "aliases", f"order-{mode}", path=path, env=env, cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr
        results[mode] = json.loads(ran.stdout.strip().splitlines()[-1])
    expected = {"total": 15, "workflow": "checkout", "steps": ["fetch-price"] * 3}
    assert results["generated"] == results["decorated"] == expected
