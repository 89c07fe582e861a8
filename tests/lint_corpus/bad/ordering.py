"""Hidden ordering: set iteration, hash() and id()."""

from dbos import DBOS


def set_from(items: list[str]) -> set[str]:
    return {i for i in items}


@DBOS.workflow()
def sets(tags: set[str], names: frozenset[str]) -> list[str]:
    out = []
    for tag in {"red", "green"}:  # expect: DBOS501
        out.append(tag)
    for tag in set(out):  # expect: DBOS501
        out.append(tag)
    seen = {t.upper() for t in out}
    for tag in seen:  # expect: DBOS501
        out.append(tag)
    upper = [t.upper() for t in tags]  # expect: DBOS501
    lower = {t: 1 for t in names}  # expect: DBOS501
    ordered = [t for t in sorted(tags)]
    declared: set[str] = set_from(out)
    for tag in declared:  # expect: DBOS501
        out.append(tag)
    as_list: list[str] = list(declared)
    for tag in as_list:
        out.append(tag)
    return out + upper + list(lower) + ordered


@DBOS.workflow()
def identities(key: str) -> int:
    bucket = hash(key) % 8  # expect: DBOS502
    marker = id(bucket)  # expect: DBOS502
    return bucket + marker
