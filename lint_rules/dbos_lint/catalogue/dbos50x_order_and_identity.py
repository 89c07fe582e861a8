"""DBOS501-502: orders and identities that change between processes (set order follows
string hashes, which are salted per process; ``id()`` is an address).

DBOS501 is detected by ``checks/dbos501_set_order.py``, with the value flow
(``analysis/evaluate.py``) telling which values iterate in set order: sets (``SET_CLASSES``,
parameters annotated with one of ``SET_TYPES``), what ``SET_RETURNING`` methods and set
operators give, and lists made from them by ``ORDER_KEEPING`` builtins; ``ORDER_FREE``
builtins consume a set without showing its order, ``FIRST_ELEMENT`` ones show it.
DBOS502 is detected by ``checks/calls.py``: a call resolving to one of ``CALLS``.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

SET_ORDER = "DBOS501"
IDENTITY_HASH = "DBOS502"

RULES: tuple[Rule, ...] = (
    Rule(
        code=SET_ORDER,
        name="set-iteration-in-workflow",
        summary="A workflow depends on set order: it iterates, indexes, joins, unpacks or pops "
        "a set, or a list made from one.",
        message="{name} in a workflow follows set order, which changes between processes "
        "(string hashes are randomised); sort first (sorted(...))",
        why="Set order depends on element hashes, and `str`/`bytes` hashes are randomised per "
        "process. A recovered workflow can then call steps in a different order, which DBOS "
        "reports as nondeterminism. The order survives `list(s)`, `tuple(s)`, `enumerate(s)` "
        "and set operations such as `set(a) - set(b)`.",
        fix="Iterate `sorted(the_set)` (or keep a list / dict, which preserve insertion order). "
        "Order-free uses (`len`, `in`, `sum`, `sorted`, `min`, `max`) are fine.",
        flagged=(
            _wf('for tag in {"a", "b"}:\n    print(tag)'),
            _wf("seen = set(['a', 'b'])\nnames = [s.upper() for s in seen]"),
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> None:\n"
            "    for tag in tags:\n        print(tag)\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\n"
            "def wf(a: list[str], b: list[str]) -> str:\n"
            "    missing = set(a) - set(b)\n    return list(missing)[0]\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> str:\n"
            '    return ",".join(tags)\n',
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> str:\n"
            "    return tags.pop()\n",
        ),
        not_flagged=(
            _wf('for tag in sorted({"b", "a"}):\n    print(tag)'),
            _wf("for k in {'a': 1}:\n    print(k)"),
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(tags: set[str]) -> str:\n"
            "    names = list(tags)\n    names.sort()\n"
            '    return ",".join(names) + str(len(tags))\n',
        ),
    ),
    Rule(
        code=IDENTITY_HASH,
        name="hash-or-id-in-workflow",
        summary="A workflow uses `hash()` or `id()`, which differ between processes.",
        message="`{name}` is process-specific (randomised string hashes, memory addresses); "
        "use a stable digest such as hashlib.sha256",
        why="`hash()` of strings is salted per process and `id()` is a memory address, so "
        "values derived from them change when the workflow is recovered elsewhere.",
        fix="Use `hashlib` (e.g. `hashlib.sha256(key.encode()).hexdigest()`) or a real key.",
        flagged=(_wf('bucket = hash("user") % 8'), _wf("key = id(object())")),
        not_flagged=(
            _wf(
                'bucket = int(hashlib.sha256(b"user").hexdigest(), 16) % 8', head="import hashlib\n"
            ),
        ),
    ),
)

#: Set-typed annotations: iterating a parameter declared this way has no stable order.
SET_TYPES: frozenset[str] = frozenset(
    [
        "builtins.set",
        "builtins.frozenset",
        "typing.Set",
        "typing.FrozenSet",
        "typing.AbstractSet",
        "collections.abc.Set",
    ]
)

SET_CLASSES = frozenset({"builtins.set", "builtins.frozenset"})
#: Set methods returning a new set (``a.union(b)``: still in hash order).
SET_RETURNING = frozenset(
    "union intersection difference symmetric_difference copy __or__ __and__ __sub__".split()
)
#: Builtins that keep their argument's order (a list made from a set is in set order).
ORDER_KEEPING = frozenset(
    {
        "builtins.list",
        "builtins.tuple",
        "builtins.iter",
        "builtins.reversed",
        "builtins.enumerate",
        "builtins.zip",
        "builtins.map",
        "builtins.filter",
        "itertools.chain",
        "itertools.islice",
        "itertools.cycle",
        "itertools.accumulate",
    }
)
#: Builtins whose result does not depend on the order they consume their argument in.
ORDER_FREE = frozenset(
    {
        "builtins.any",
        "builtins.all",
        "builtins.sum",
        "builtins.min",
        "builtins.max",
        "builtins.len",
        "builtins.sorted",
        "builtins.set",
        "builtins.frozenset",
        "collections.Counter",
    }
)
#: Builtins that give their argument's first element: which one depends on set order.
FIRST_ELEMENT = frozenset({"builtins.next"})

FAMILY = Family(
    rules=RULES,
    calls={"builtins.hash": IDENTITY_HASH, "builtins.id": IDENTITY_HASH},
)
