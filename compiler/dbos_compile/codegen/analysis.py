"""What a module declares for DBOS, as the checker reads it: which functions and methods are
workflows, steps or transactions (and whether async), which expressions name the ``DBOS``
class, and which module globals are queues.

The code generator needs this before rewriting: a call is made explicit only when its callee
is one of the module's own decorated functions (or a durable ``DBOS.*`` operation). It asks
the checker (``dbos_lint.ModuleDeclarations``: decorators and names resolved through imports
and module-level aliases, ``retrying = DBOS.step(retries_allowed=True)`` then ``@retrying``),
so what the generator makes durable is exactly what ``dbos-compile check`` checked as such."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from dbos_lint import ModuleDeclarations

_DBOS = "dbos.DBOS"
_QUEUE = "dbos.Queue"
_SITE_PREFIX = {"workflow": "_dbos_wf_", "step": "_dbos_step_", "transaction": "_dbos_tx_"}


@dataclass(frozen=True)
class Durable:
    """One decorated function: its kind, whether it is ``async def``, whether the DBOS
    decorator is the innermost one (then the function it registers is the one defined), and
    where that decorator is in the function's decorator list."""

    kind: str
    is_async: bool
    innermost: bool = True
    given_name: str | None = None  # a literal ``name=`` in the call that made the decorator
    decorator: int = 0

    def registered(self, qualname: str) -> str:
        """The name the runtime registers (and records steps under): as the decorator does."""
        return self.given_name or qualname

    def site(self, name: str) -> str:
        """The module global a generated call site of ``name`` calls (see ``located``)."""
        return _SITE_PREFIX[self.kind] + name


@dataclass
class ModuleFacts:
    """The DBOS declarations of one module."""

    declarations: ModuleDeclarations
    queues: set[str] = field(default_factory=set)  # module globals assigned a Queue(...)
    functions: dict[str, Durable] = field(default_factory=dict)  # module-level decorated defs
    methods: dict[str, dict[str, Durable]] = field(default_factory=dict)  # class -> method

    @property
    def has_durable(self) -> bool:
        return bool(self.functions or any(self.methods.values()))

    def is_dbos(self, node: cst.BaseExpression) -> bool:
        """``node`` names the ``DBOS`` class (``DBOS``, an alias of it, ``dbos.DBOS``)."""
        return self.declarations.qualified_name(node) == _DBOS

    def kind_of(self, func: cst.FunctionDef) -> Durable | None:
        """The DBOS kind a function's decorators give it, if any."""
        found = self.declarations.durable(func)
        if found is None:
            return None
        innermost = found.decorator == len(func.decorators) - 1
        name = _given_name(found.call, found.kind)
        is_async = func.asynchronous is not None
        return Durable(found.kind, is_async, innermost, name, found.decorator)


def _given_name(call: cst.Call | None, kind: str) -> str | None:
    """``name="x"`` (or, for workflow and step, a first positional literal) in the call that
    made a decorator."""
    if call is None:
        return None
    for position, arg in enumerate(call.args):
        named = arg.keyword is not None and arg.keyword.value == "name"
        first = arg.keyword is None and position == 0 and kind != "transaction"
        if (named or first) and isinstance(arg.value, cst.SimpleString):
            value = arg.value.evaluated_value
            return value if isinstance(value, str) else None
    return None


def _queue_assignment(statement: cst.BaseStatement, facts: ModuleFacts) -> None:
    """``q = Queue("name", ...)`` at module level makes ``q.enqueue(...)`` a durable call."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return
    for small in statement.body:
        value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
        if not isinstance(value, cst.Call):
            continue
        if facts.declarations.qualified_name(value.func) != _QUEUE:
            continue
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        else:
            assert isinstance(small, cst.AnnAssign)
            targets = [small.target]
        facts.queues.update(t.value for t in targets if isinstance(t, cst.Name))


def read_facts(module: cst.Module) -> ModuleFacts:
    """The facts of a parsed module (module-level definitions and classes only)."""
    facts = ModuleFacts(ModuleDeclarations(module))
    for statement in module.body:
        _queue_assignment(statement, facts)
        if isinstance(statement, cst.FunctionDef):
            durable = facts.kind_of(statement)
            if durable is not None:
                facts.functions[statement.name.value] = durable
        elif isinstance(statement, cst.ClassDef):
            methods: dict[str, Durable] = {}
            for item in statement.body.body:
                if isinstance(item, cst.FunctionDef):
                    durable = facts.kind_of(item)
                    if durable is not None:
                        methods[item.name.value] = durable
            if methods:
                facts.methods[statement.name.value] = methods
    return facts


def queue_of(callee: cst.BaseExpression, facts: ModuleFacts, bound: set[str]) -> cst.Name | None:
    """``q`` in ``q.enqueue`` / ``q.enqueue_async`` for a module-level ``q = Queue(...)``."""
    if (
        isinstance(callee, cst.Attribute)
        and callee.attr.value in ("enqueue", "enqueue_async")
        and isinstance(callee.value, cst.Name)
        and callee.value.value in facts.queues
        and callee.value.value not in bound
    ):
        return callee.value
    return None


class _Bound(cst.CSTVisitor):
    """Names a function binds for itself (parameters, assignments, loops, nested defs)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Param(self, node: cst.Param) -> None:
        self.names.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._targets(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._targets(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._targets(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._targets(node.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.names.add(node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.add(node.name.value)

    def _targets(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Name):
            self.names.add(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._targets(element.value)


def locally_bound(func: cst.FunctionDef) -> set[str]:
    """Names that, inside ``func``, do not refer to the module's definitions."""
    visitor = _Bound()
    func.params.visit(visitor)
    func.body.visit(visitor)
    return visitor.names
