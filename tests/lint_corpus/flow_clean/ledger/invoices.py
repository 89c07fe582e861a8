"""Sets used without depending on their order; module state only read."""

from dbos import DBOS

LIMIT = 100
_KNOWN: frozenset[str] = frozenset({"a", "b"})
_STATE: dict[str, int] = {}


@DBOS.step()
def load_ids(kind: str) -> list[str]:
    _STATE[kind] = len(kind)
    return [kind]


@DBOS.workflow()
def reconcile(expected: list[str]) -> str:
    received = load_ids("received")
    missing = set(expected) - set(received)
    for invoice in sorted(missing):
        print(invoice)
    ordered = list(missing)
    ordered.sort()
    first = ordered[0] if ordered else ""
    summary = ",".join(sorted(missing))
    smallest = min(missing) if missing else ""
    known = [i for i in expected if i in _KNOWN]
    counts = {}
    for invoice in received:
        counts[invoice] = counts.get(invoice, 0) + 1
    total = len(missing) + sum(len(i) for i in sorted(missing)) + len(known) + LIMIT
    return f"{first}{summary}{smallest}{total}{counts}"


@DBOS.workflow()
def count_run(key: str) -> int:
    runs = 0
    runs += 1
    seen = dict(_STATE)
    seen[key] = runs
    local: list[str] = []
    local.append(key)
    return runs + len(seen) + len(local) + _STATE.get(key, 0)
