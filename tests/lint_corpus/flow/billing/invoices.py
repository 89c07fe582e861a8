"""Set order in all its forms, and module-level state changed by workflows."""

from dbos import DBOS

_runs = 0
_CACHE: dict[str, int] = {}
_SEEN: list[str] = []


class Registry:
    handled = 0


@DBOS.step()
def load_ids(kind: str) -> list[str]:
    return [kind]


@DBOS.workflow()
def reconcile(expected: list[str]) -> str:
    received = load_ids("received")
    missing = set(expected) - set(received)
    for invoice in missing:  # expect: DBOS501
        print(invoice)
    first = list(missing)[0]  # expect: DBOS501
    ordered = list(missing)
    for position, invoice in enumerate(ordered):  # expect: DBOS501
        print(position, invoice)
    summary = ",".join(missing)  # expect: DBOS501
    one = set(received).pop()  # expect: DBOS501
    head, *rest = {"a", "b"}  # expect: DBOS501
    return f"{first}{summary}{one}{head}{rest}"


@DBOS.workflow()
def count_run(key: str) -> int:
    global _runs
    _runs += 1  # expect: DBOS402
    _CACHE[key] = _runs  # expect: DBOS402
    _SEEN.append(key)  # expect: DBOS402
    Registry.handled += 1  # expect: DBOS402
    return _runs
