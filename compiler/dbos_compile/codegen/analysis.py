"""What a module declares for DBOS, read from its syntax: which names reach the ``DBOS`` class,
and which functions and methods are workflows, steps or transactions (and whether async).

The code generator needs this before rewriting: a call is made explicit only when its callee
is one of the module's own decorated functions (or a durable ``DBOS.*`` operation)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

KINDS = ("workflow", "step", "transaction")


_SITE_PREFIX = {"workflow": "_dbos_wf_", "step": "_dbos_step_", "transaction": "_dbos_tx_"}


@dataclass(frozen=True)
class Durable:
    """One decorated function: its kind, whether it is ``async def``, and whether the DBOS
    decorator is the innermost one (then the function it registers is the one defined)."""

    kind: str
    is_async: bool
    innermost: bool = True
    given_name: str | None = None  # a literal ``name=`` in the decorator

    def registered(self, qualname: str) -> str:
        """The name the runtime registers (and records steps under): as the decorator does."""
        return self.given_name or qualname

    def site(self, name: str) -> str:
        """The module global a generated call site of ``name`` calls (see ``located``)."""
        return _SITE_PREFIX[self.kind] + name


@dataclass
class ModuleFacts:
    """The DBOS names of one module."""

    dbos_names: set[str] = field(default_factory=set)  # local names bound to dbos.DBOS
    dbos_modules: set[str] = field(default_factory=set)  # local names bound to the dbos module
    queue_classes: set[str] = field(default_factory=set)  # local names bound to dbos.Queue
    queues: set[str] = field(default_factory=set)  # module globals assigned a Queue(...)
    functions: dict[str, Durable] = field(default_factory=dict)  # module-level decorated defs
    methods: dict[str, dict[str, Durable]] = field(default_factory=dict)  # class -> method

    @property
    def has_durable(self) -> bool:
        return bool(self.functions or any(self.methods.values()))

    def is_dbos(self, node: cst.BaseExpression) -> bool:
        """``node`` names the ``DBOS`` class (``DBOS``, an alias of it, ``dbos.DBOS``)."""
        if isinstance(node, cst.Name):
            return node.value in self.dbos_names
        return (
            isinstance(node, cst.Attribute)
            and node.attr.value == "DBOS"
            and isinstance(node.value, cst.Name)
            and node.value.value in self.dbos_modules
        )

    def kind_of(self, func: cst.FunctionDef) -> Durable | None:
        """The DBOS kind a function's decorators give it, if any."""
        for index, decorator in enumerate(func.decorators):
            expr = decorator.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            if (
                isinstance(target, cst.Attribute)
                and target.attr.value in KINDS
                and self.is_dbos(target.value)
            ):
                innermost = index == len(func.decorators) - 1
                name = _given_name(expr, target.attr.value)
                return Durable(target.attr.value, func.asynchronous is not None, innermost, name)
        return None


def _given_name(expr: cst.BaseExpression, kind: str) -> str | None:
    """``name="x"`` (or, for workflow and step, a first positional literal) in a decorator."""
    if not isinstance(expr, cst.Call):
        return None
    for position, arg in enumerate(expr.args):
        named = arg.keyword is not None and arg.keyword.value == "name"
        first = arg.keyword is None and position == 0 and kind != "transaction"
        if (named or first) and isinstance(arg.value, cst.SimpleString):
            value = arg.value.evaluated_value
            return value if isinstance(value, str) else None
    return None


def _imports(module: cst.Module, facts: ModuleFacts) -> None:
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.ImportFrom)
                and isinstance(small.module, cst.Name)
                and small.module.value == "dbos"
            ):
                if isinstance(small.names, cst.ImportStar):
                    facts.dbos_names.add("DBOS")
                    facts.queue_classes.add("Queue")
                    continue
                for alias in small.names:
                    bound = alias.asname.name if alias.asname else alias.name
                    if not isinstance(bound, cst.Name):
                        continue
                    if m.matches(alias.name, m.Name("DBOS")):
                        facts.dbos_names.add(bound.value)
                    elif m.matches(alias.name, m.Name("Queue")):
                        facts.queue_classes.add(bound.value)
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if m.matches(alias.name, m.Name("dbos")):
                        bound = alias.asname.name if alias.asname else alias.name
                        if isinstance(bound, cst.Name):
                            facts.dbos_modules.add(bound.value)


def _is_queue_class(node: cst.BaseExpression, facts: ModuleFacts) -> bool:
    if isinstance(node, cst.Name):
        return node.value in facts.queue_classes
    return (
        isinstance(node, cst.Attribute)
        and node.attr.value == "Queue"
        and isinstance(node.value, cst.Name)
        and node.value.value in facts.dbos_modules
    )


def _queue_assignment(statement: cst.BaseStatement, facts: ModuleFacts) -> None:
    """``q = Queue("name", ...)`` at module level makes ``q.enqueue(...)`` a durable call."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return
    for small in statement.body:
        value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
        if not (isinstance(value, cst.Call) and _is_queue_class(value.func, facts)):
            continue
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        else:
            assert isinstance(small, cst.AnnAssign)
            targets = [small.target]
        facts.queues.update(t.value for t in targets if isinstance(t, cst.Name))


def read_facts(module: cst.Module) -> ModuleFacts:
    """The facts of a parsed module (module-level definitions and classes only)."""
    facts = ModuleFacts()
    _imports(module, facts)
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
