"""DBOS601-603: signatures of workflows, steps and transactions: can their inputs and outputs
be recorded?

DBOS checkpoints every input and output. A parameter annotated with a callable, a lock, a
socket, an open file, or a client or session object (``requests.Session``, ``httpx.Client``,
SQLAlchemy's ``Session``) cannot be written to the system database; neither can the generator
object a function with ``yield`` in its body returns. Annotations are read through aliases
(``Handler = Callable[[int], None]``), quotes and imports from other project modules. The
rules' text and tables: ``catalogue/dbos60x_signatures.py``.
"""

from __future__ import annotations

import libcst as cst

from dbos_lint.analysis.annotations import first_named
from dbos_lint.analysis.evaluate import Evaluator
from dbos_lint.analysis.parsed_module import FunctionInfo, ParsedModule
from dbos_lint.analysis.syntax import all_params
from dbos_lint.analysis.values import Ext, Frame, Value
from dbos_lint.catalogue import codes
from dbos_lint.catalogue import objects as o
from dbos_lint.catalogue.dbos60x_signatures import UNSERIALIZABLE_TYPES


def unserializable(ev: Evaluator, expr: cst.BaseExpression, frame: Frame) -> str | None:
    """The first type named in ``expr`` that cannot be serialized, if any."""
    found = first_named(ev, expr, frame, _unrecordable)
    return o.public_class(found.name) if isinstance(found, Ext) else None


def _unrecordable(named: Value) -> bool:
    if not isinstance(named, Ext):
        return False
    name = o.public_class(named.name)
    return name in UNSERIALIZABLE_TYPES or o.client_code(name) is not None


def signature_findings(
    ev: Evaluator, module: ParsedModule, info: FunctionInfo
) -> list[tuple[cst.CSTNode, str, str]]:
    """(annotation, code, how to name it) for each parameter/return type that cannot be
    recorded."""
    index = module.index
    frame = Frame(module, index.enclosing_scope(info.owner, info.parent))
    annotated = [
        (param.annotation.annotation, codes.PARAM_TYPE)
        for param in all_params(info.node)
        if param.annotation is not None
    ]
    if info.node.returns is not None:
        annotated.append((info.node.returns.annotation, codes.RETURN_TYPE))
    found: list[tuple[cst.CSTNode, str, str]] = []
    for expr, code in annotated:
        bad = unserializable(ev, expr, frame)
        if bad is not None:
            found.append((expr, code, _shown(module, expr, bad)))
    return found


def _shown(module: ParsedModule, expr: cst.BaseExpression, bad: str) -> str:
    """How a message names the type: itself when the annotation spells it, else the
    annotation as written and what it names (``Handler``, an alias)."""
    written = module.module.code_for_node(expr).strip().strip("'\"")
    leaf = bad.rsplit(".", 1)[-1]
    if leaf in written:
        return f"`{bad}`"
    return f"`{written}` (which names `{bad}`)"


def generator_finding(
    info: FunctionInfo,
    first_yield: cst.Yield | None,
    signature: list[tuple[cst.CSTNode, str, str]],
) -> tuple[cst.CSTNode, str, str] | None:
    """DBOS603 at the first ``yield`` of the function's own body, unless its return type was
    already reported as unrecordable (one finding per cause)."""
    returns_flagged = any(code == codes.RETURN_TYPE for _, code, _ in signature)
    if first_yield is None or returns_flagged:
        return None
    return first_yield, codes.GENERATOR, info.qualname
