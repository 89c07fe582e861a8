"""The value flow: what an expression evaluates to, through names, imports, attributes, calls.

``_now = time.time`` at module level makes ``_now()`` a call of ``time.time``;
``self.http = requests.Session()`` in ``__init__`` makes ``self.http.get(...)`` a method of a
network client; ``(ROOT / "x.json").read_text()`` reads a file when ``ROOT`` is a module-level
``Path``; ``from pkg import helper`` finds ``helper`` through ``pkg/__init__.py``'s re-export.
All of these are one mechanism: a name evaluates to the join of its bindings' values, an
attribute to what its base's value has under that name, a call to what calling the callee's
value returns.

The evaluator is pure: it never reports. Values are memoised per analysis (they depend on which
project files resolve, which the analysis records for the cache), keyed by node and receiver
(``self`` is the class being checked, which may be a subclass of the method's own class). A
cycle (``x = x + 1``, mutually recursive attributes) evaluates to unknown, as does anything
deeper than :data:`MAX_DEPTH`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, cast

import libcst as cst

from dbos_lint.analysis import classes
from dbos_lint.analysis.annotations import outer_type
from dbos_lint.analysis.parsed_module import ClassInfo, FunctionInfo, ParsedModule
from dbos_lint.analysis.project import Project
from dbos_lint.analysis.scopes import Bind, Binding, Scope
from dbos_lint.analysis.syntax import string_value
from dbos_lint.analysis.values import (
    UNKNOWN,
    Bound,
    Ext,
    Frame,
    ImportTarget,
    Inst,
    Method,
    Ordered,
    ProjClass,
    ProjFunc,
    ProjInst,
    ProjModule,
    Super,
    Symbol,
    Value,
    join,
)
from dbos_lint.catalogue import names as n
from dbos_lint.catalogue import objects as o
from dbos_lint.catalogue.dbos50x_order_and_identity import (
    ORDER_KEEPING,
    SET_CLASSES,
    SET_RETURNING,
    SET_TYPES,
)
from dbos_lint.catalogue.dbos201_filesystem import PATH_CLASSES

MAX_DEPTH = 60

#: Values of literals and displays, whatever is inside them.
_LITERALS: dict[type[cst.CSTNode], Value] = {
    cst.Set: Inst("builtins.set", unordered=True, what="a set literal"),
    cst.SetComp: Inst("builtins.set", unordered=True, what="a set comprehension"),
    cst.List: Inst("builtins.list"),
    cst.ListComp: Inst("builtins.list"),
    cst.Dict: Inst("builtins.dict"),
    cst.DictComp: Inst("builtins.dict"),
    cst.Tuple: Inst("builtins.tuple"),
    cst.SimpleString: Inst("builtins.str"),
    cst.ConcatenatedString: Inst("builtins.str"),
    cst.FormattedString: Inst("builtins.str"),
}
_SET_OPERATORS = (cst.BitOr, cst.BitAnd, cst.Subtract, cst.BitXor)
_PATHS = PATH_CLASSES | {"pathlib.PurePath", "pathlib.PurePosixPath"}


class ProjectView(Protocol):
    def module_for(self, importer: ParsedModule, dotted: str) -> ParsedModule | None:
        """The project module ``dotted`` names when imported from ``importer``, if any."""


class _Closed:
    def module_for(self, importer: ParsedModule, dotted: str) -> ParsedModule | None:
        return None


_CLOSED = _Closed()


class Evaluator:
    def __init__(self, view: ProjectView) -> None:
        self.view = view
        self.mro_cache: dict[ClassInfo, list[ClassInfo]] = {}
        self._memo: dict[tuple[cst.CSTNode, object], Value] = {}
        self._bindings: dict[tuple[Binding, object], Value] = {}
        self._joined: dict[tuple[int, object], Value] = {}
        #: Binding list (by identity) -> the host-state name a variable stands for, or "";
        #: filled by the body walker, which asks for every name it reads.
        self.reads: dict[int, str] = {}
        self._imports: dict[tuple[int, str], ImportTarget] = {}
        self._bases: dict[ClassInfo, list[Value]] = {}
        self._depth = 0

    def close(self) -> None:
        """Forget everything (the memo refers to the project view that owns this evaluator)."""
        self.view = _CLOSED
        self.reads.clear()
        for memo in (self._memo, self._bindings, self._joined, self._imports, self._bases):
            memo.clear()
        self.mro_cache.clear()

    # -- expressions ---------------------------------------------------------------------------
    def value(self, expr: cst.CSTNode, frame: Frame) -> Value:
        key = (expr, classes.receiver_key(frame.receiver))
        found = self._memo.get(key)
        if found is not None:
            return found
        if self._depth > MAX_DEPTH:
            return UNKNOWN
        self._memo[key] = UNKNOWN  # a cycle reads the value being computed as unknown
        self._depth += 1
        try:
            result = self._compute(expr, frame)
        finally:
            self._depth -= 1
        self._memo[key] = result
        return result

    def _compute(self, expr: cst.CSTNode, frame: Frame) -> Value:
        kind = type(expr)
        if kind is cst.Name:
            return self.name(cast(cst.Name, expr).value, frame)
        if kind is cst.Attribute:
            attr = cast(cst.Attribute, expr)
            return self.attribute(self.value(attr.value, frame), attr.attr.value)
        if kind is cst.Call:
            return self._call(cast(cst.Call, expr), frame)
        fixed = _LITERALS.get(kind)
        if fixed is not None:
            return fixed
        compute = _COMPUTE.get(kind)
        return compute(self, expr, frame) if compute is not None else UNKNOWN

    def _await(self, expr: cst.CSTNode, frame: Frame) -> Value:
        return self.value(cast(cst.Await, expr).expression, frame)

    def _choice(self, expr: cst.CSTNode, frame: Frame) -> Value:
        if isinstance(expr, cst.IfExp):
            return join((self.value(expr.body, frame), self.value(expr.orelse, frame)))
        op = cast(cst.BooleanOperation, expr)
        return join((self.value(op.left, frame), self.value(op.right, frame)))

    def _walrus(self, expr: cst.CSTNode, frame: Frame) -> Value:
        return self.value(cast(cst.NamedExpr, expr).value, frame)

    def _subscript(self, expr: cst.CSTNode, frame: Frame) -> Value:
        sub = cast(cst.Subscript, expr)
        base = self.value(sub.value, frame)
        if base.unordered and any(isinstance(e.slice, cst.Slice) for e in sub.slice):
            return Ordered(what="a slice of a list in set order")
        return UNKNOWN

    def _binary(self, node: cst.CSTNode, frame: Frame) -> Value:
        expr = cast(cst.BinaryOperation, node)
        left = self.value(expr.left, frame)
        op = expr.operator
        if isinstance(op, cst.Divide):
            right = self.value(expr.right, frame)
            if any(isinstance(v, Inst) and o.public_class(v.cls) in _PATHS for v in (left, right)):
                return Inst("pathlib.Path", shared=_shared(left))
        elif isinstance(op, _SET_OPERATORS):
            if isinstance(left, Inst) and left.cls in SET_CLASSES:
                return Inst("builtins.set", unordered=True, what="a set expression")
        elif isinstance(op, cst.Add):
            if left.unordered or self.value(expr.right, frame).unordered:
                return Ordered(what="a list in set order")
        return UNKNOWN

    # -- names ---------------------------------------------------------------------------------
    def name(self, name: str, frame: Frame) -> Value:
        bindings = frame.scope.lookup(name)
        if bindings is None:
            return Ext(f"builtins.{name}") if frame.scope.is_builtin(name) else UNKNOWN
        return self.bindings(bindings, frame, name)

    def bindings(self, bindings: list[Binding], frame: Frame, name: str) -> Value:
        """The join of a name's bindings (a scope's own list: its identity keys the memo, so
        a name read many times is joined once)."""
        key = (id(bindings), classes.receiver_key(frame.receiver))
        found = self._joined.get(key)
        if found is not None:
            return found
        self._joined[key] = UNKNOWN
        values = [self.binding(b, frame) for b in bindings if b.kind is not Bind.AUGMENT]
        if bindings[0].scope.kind == "module" and name in frame.module.index.global_writes:
            values.append(UNKNOWN)  # a function declaring it ``global`` may rebind it any time
        self._joined[key] = result = join(values)
        return result

    def binding(self, binding: Binding, frame: Frame) -> Value:
        key = (binding, classes.receiver_key(frame.receiver))
        found = self._bindings.get(key)
        if found is not None:
            return found
        self._bindings[key] = UNKNOWN
        result = self._binding(binding, frame.at(binding.scope))
        self._bindings[key] = result
        return result

    def _binding(self, b: Binding, frame: Frame) -> Value:
        module_level = b.scope.kind in ("module", "class")
        if b.kind is Bind.ASSIGN and b.value is not None:
            value = self.value(b.value, frame)
            return _share(value) if module_level else value
        if b.kind is Bind.ANNOTATED and b.value is not None:
            # In a class body ``x: T = ...`` declares a field (dataclasses, pydantic, ORMs give
            # each instance its own), so only a module-level one is a shared object.
            value = self.annotation(b.value, frame)
            return _share(value) if b.scope.kind == "module" else value
        if b.kind is Bind.PARAM:
            return self._param(b, frame)
        if b.kind is Bind.IMPORT:
            return self.target_value(self.import_target(frame.module, b.target))
        index = frame.module.index
        if b.kind is Bind.DEF and isinstance(b.node, cst.FunctionDef):
            info = index.functions.get(b.node)
            return ProjFunc(info) if info is not None else UNKNOWN
        if b.kind is Bind.CLASS and isinstance(b.node, cst.ClassDef):
            cls = index.classes.get(b.node)
            return ProjClass(cls) if cls is not None else UNKNOWN
        if b.kind is Bind.WITH and b.value is not None:
            # Clients and files return themselves from ``__enter__``.
            value = self.value(b.value, frame)
            return value if isinstance(value, Inst) else UNKNOWN
        return UNKNOWN

    def _param(self, b: Binding, frame: Frame) -> Value:
        node = b.scope.node
        info = frame.module.index.functions.get(node) if isinstance(node, cst.FunctionDef) else None
        if info is not None and info.owner is not None and isinstance(b.node, cst.Param):
            params = info.node.params.posonly_params or info.node.params.params
            if params and params[0] is b.node and info.self_name is not None:
                receiver = frame.receiver
                owner = receiver.cls if receiver is not None else info.owner
                if info.is_classmethod:
                    return ProjClass(owner)
                if isinstance(receiver, ProjInst):
                    return receiver
                return ProjInst(owner)
        if b.value is not None:
            return self.annotation(b.value, frame)
        return UNKNOWN

    def annotation(self, expr: cst.BaseExpression, frame: Frame) -> Value:
        """An object of the type an annotation declares (``tags: set[str]``: a set)."""
        declared = outer_type(self, expr, frame)
        if isinstance(declared, Ext):
            if declared.name in SET_TYPES:
                return Inst("builtins.set", unordered=True, what="a set")
            return Inst(o.public_class(declared.name))
        if isinstance(declared, ProjClass):
            return ProjInst(declared.cls)
        return UNKNOWN

    # -- imports and project modules -----------------------------------------------------------
    def import_target(self, module: ParsedModule, target: str) -> ImportTarget:
        key = (id(module), target)
        found = self._imports.get(key)
        if found is None:
            found = self._imports[key] = self._import_target(module, target)
        return found

    def _import_target(self, module: ParsedModule, target: str) -> ImportTarget:
        relative = target.startswith(".")
        if not relative and not Project.is_candidate(target):
            return Ext(target)
        found = self.view.module_for(module, target)
        if found is not None:
            return ProjModule(found)
        stripped = target.lstrip(".")
        dots = target[: len(target) - len(stripped)]
        head, _, attr = stripped.rpartition(".")
        if attr and (head or dots):
            package = self.view.module_for(module, dots + head)
            if package is not None:
                return Symbol(package, attr)
        return UNKNOWN if relative else Ext(target)

    def target_value(self, target: ImportTarget) -> Value:
        if isinstance(target, Symbol):
            return self.module_attribute(target.module, target.name)
        return target

    def module_attribute(self, module: ParsedModule, name: str) -> Value:
        bindings = module.index.scope.bindings.get(name)
        if bindings:
            return self.bindings(bindings, Frame(module, module.index.scope), name)
        if module.is_package:
            sub = self.view.module_for(module, f".{name}")
            if sub is not None:
                return ProjModule(sub)
        return UNKNOWN

    # -- attributes ----------------------------------------------------------------------------
    def attribute(self, base: Value, attr: str) -> Value:
        if isinstance(base, Ext):
            return Ext(f"{base.name}.{attr}")
        if isinstance(base, Inst):
            cls = o.ATTRIBUTES.get(f"{o.public_class(base.cls)}.{attr}")
            if cls is not None:
                return Inst(cls, shared=base.shared)
            return Method(base, attr)
        if isinstance(base, ProjModule):
            return self.module_attribute(base.module, attr)
        if isinstance(base, (ProjClass, ProjInst)):
            return self.member(base, attr)
        if isinstance(base, Super):
            found = classes.find(self, base.receiver.cls, attr, after=base.after)
            return self._member_value(found, base.receiver, attr)
        return UNKNOWN

    def member(self, receiver: ProjClass | ProjInst, attr: str) -> Value:
        found = classes.find(self, receiver.cls, attr)
        if isinstance(receiver, ProjInst) and not classes.is_property(found):
            assigned = classes.instance_assignments(self, receiver.cls, attr)
            if assigned:
                values = [
                    self.value(value, Frame(k.module, k.index.function_scope(m), receiver))
                    for k, m, value in assigned
                    if isinstance(value, cst.BaseExpression)
                ]
                joined = join(values) if len(values) == len(assigned) else join([*values, UNKNOWN])
                return _share(joined) if receiver.shared else joined
        return self._member_value(found, receiver, attr)

    def _member_value(
        self, found: classes.Member | None, receiver: ProjClass | ProjInst, attr: str
    ) -> Value:
        if found is None:
            return UNKNOWN
        method = found.method
        if method is not None:
            if method.is_property:
                return self.returns(method) if isinstance(receiver, ProjInst) else UNKNOWN
            if method.is_static:
                return ProjFunc(method)
            if method.is_classmethod:
                return Bound(method, ProjClass(receiver.cls))
            if isinstance(receiver, ProjClass):
                return ProjFunc(method)  # ``Class.method(obj)``: a plain function
            return Bound(method, receiver)
        owner = found.owner
        if not found.bindings:
            return UNKNOWN
        return self.bindings(found.bindings, Frame(owner.module, owner.scope), attr)

    def base_classes(self, cls: ClassInfo) -> list[Value]:
        found = self._bases.get(cls)
        if found is None:
            assert cls.scope.parent is not None
            frame = Frame(cls.module, cls.scope.parent)
            found = self._bases[cls] = [self.value(b.value, frame) for b in cls.node.bases]
        return found

    # -- calls ---------------------------------------------------------------------------------
    def _call(self, call: cst.Call, frame: Frame) -> Value:
        func = self.value(call.func, frame)
        if isinstance(func, Ext):
            return self._call_outside(func.name, call, frame)
        if isinstance(func, Method):
            return self._call_method(func, call)
        if isinstance(func, (ProjFunc, Bound)):
            return self.returns(func.func)
        if isinstance(func, ProjClass):
            return ProjInst(func.cls)
        if isinstance(func, Inst):
            cls = o.RETURNS.get(f"{o.public_class(func.cls)}.__call__")
            return Inst(cls, origin=call) if cls else UNKNOWN
        return UNKNOWN

    def _call_outside(self, name: str, call: cst.Call, frame: Frame) -> Value:
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        leaf = name.rsplit(".", 1)[-1]
        if name in SET_CLASSES:
            return Inst(name, unordered=True, what=f"`{leaf}(...)`")
        if name in ORDER_KEEPING:
            if any(self.value(a, frame).unordered for a in positional):
                return Ordered(what=f"`{leaf}(...)` of a set")
            return Inst(name)
        if name == "builtins.sorted":
            return Inst("builtins.list")
        if name == "builtins.getattr" and len(positional) >= 2:
            attr = string_value(positional[1])
            if attr is not None:
                return self.attribute(self.value(positional[0], frame), attr)
            return UNKNOWN
        if name == "builtins.super" and not call.args:
            return self._super(frame)
        unseeded = name in n.MIN_ARGS_TO_BE_SAFE and len(call.args) < n.MIN_ARGS_TO_BE_SAFE[name]
        return Inst(o.RETURNS.get(name, name), unseeded=unseeded, origin=call)

    def _call_method(self, method: Method, call: cst.Call) -> Value:
        cls = o.public_class(method.obj.cls)
        returned = o.RETURNS.get(f"{cls}.{method.name}")
        if returned is not None:
            return Inst(returned, origin=call)
        if cls in SET_CLASSES and method.name in SET_RETURNING:
            return Inst("builtins.set", unordered=True, what="a set expression")
        return UNKNOWN

    def returns(self, func: FunctionInfo) -> Value:
        """What calling a project function gives, as far as its return annotation says."""
        if func.node.returns is None:
            return UNKNOWN
        index = func.index
        frame = Frame(func.module, index.enclosing_scope(func.owner, func.parent))
        return self.annotation(func.node.returns.annotation, frame)

    def _super(self, frame: Frame) -> Value:
        scope: Scope | None = frame.scope
        index = frame.module.index
        while scope is not None:
            node = scope.node
            info = index.functions.get(node) if isinstance(node, cst.FunctionDef) else None
            if info is not None and info.owner is not None:
                receiver = frame.receiver or ProjInst(info.owner)
                return Super(receiver, info.owner)
            scope = scope.parent
        return UNKNOWN


_COMPUTE = {
    cst.Await: Evaluator._await,
    cst.BinaryOperation: Evaluator._binary,
    cst.IfExp: Evaluator._choice,
    cst.BooleanOperation: Evaluator._choice,
    cst.NamedExpr: Evaluator._walrus,
    cst.Subscript: Evaluator._subscript,
}


def _shared(value: Value) -> bool:
    return isinstance(value, (Inst, ProjInst)) and value.shared


def _share(value: Value) -> Value:
    """The value of a module-level (or class-level) name: one object for the whole process."""
    if isinstance(value, Inst):
        return replace(value, shared=True)
    if isinstance(value, ProjInst):
        return ProjInst(value.cls, shared=True)
    return value
