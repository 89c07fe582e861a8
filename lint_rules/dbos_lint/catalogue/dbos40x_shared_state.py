"""DBOS401-402: state of the host and of the process, which a recovered run (in another
process, maybe on another host) sees differently.

DBOS401 is detected by ``checks/calls.py`` (a call resolving to one of ``CALLS`` or into a
module of ``MODULES``) and ``checks/reads.py`` (a read of one of ``ACCESSES``: no call needed).
DBOS402 is detected by ``checks/dbos402_module_state.py``: an assignment to a ``global``, to an
attribute or item of module- or class-level state, or a call of one of ``MUTATING_METHODS`` on
a shared object of one of ``CONTAINERS``. The mypy plugin reads the DBOS401 tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

ENVIRONMENT = "DBOS401"
MODULE_STATE = "DBOS402"

_OS_ENV = (
    "getenv getenvb putenv unsetenv getpid getppid getcwd getcwdb getlogin getuid geteuid "
    "getgid getegid uname cpu_count times getloadavg"
).split()
_ENVIRON = "os.environ"

RULES: tuple[Rule, ...] = (
    Rule(
        code=ENVIRONMENT,
        name="host-state-in-workflow",
        summary="A workflow reads host or process state (`os.environ`, `os.getenv`, "
        "`os.getpid`, `platform`, `sys.argv`, `input`).",
        message="`{name}` reads host or process state in a workflow; it can differ on the "
        "worker that recovers it, so read it at startup or in a @DBOS.step()",
        why="A workflow may be recovered by another process or host with a different "
        "environment, command line or pid.",
        fix="Read configuration once at startup and pass it as a workflow argument, or read "
        "it in a step.",
        flagged=(
            _wf('url = os.environ["URL"]', head="import os\n"),
            _wf('url = os.getenv("URL")', head="import os\n"),
            _wf("args = sys.argv[1:]", head="import sys\n"),
            _wf('region = E.get("REGION")', head="from os import environ as E\n"),
            "import os\nfrom dbos import DBOS\n\n\nclass Flags:\n"
            "    def on(self, name: str) -> bool:\n"
            '        return os.environ.get(name) == "1"\n\n\n@DBOS.workflow()\n'
            'def wf() -> bool:\n    return Flags().on("beta")\n',
        ),
        not_flagged=(
            'import os\nfrom dbos import DBOS\n\nURL = os.environ.get("URL")\n\n\n'
            "@DBOS.workflow()\ndef wf(url: str) -> str:\n    return url\n",
            "from dbos import DBOS\n\n\nclass Flags:\n    def on(self, name: str) -> bool:\n"
            '        return name == "beta"\n\n\n@DBOS.workflow()\n'
            'def wf() -> bool:\n    return Flags().on("beta")\n',
        ),
    ),
    Rule(
        code=MODULE_STATE,
        name="module-state-in-workflow",
        summary="A workflow changes state that outlives it: a `global`, a module-level "
        "container or object, a class attribute.",
        message="a workflow changes `{name}`, which every run in the process shares; a recovered "
        "run sees what other runs left there, not what the first run saw; keep the state in "
        "the workflow (or return it from a @DBOS.step())",
        why="Module-level and class-level state lives as long as the process, not the workflow. "
        "The first run changes it after other workflows have; a recovery, in a fresh process "
        "or on another host, starts from a different value, so it can branch differently.",
        fix="Keep counters and caches in local variables or workflow arguments; if several "
        "workflows must share a value, store it durably (a transaction, an event) and read it "
        "in a step.",
        flagged=(
            "from dbos import DBOS\n\ncounter = 0\n\n\n@DBOS.workflow()\ndef wf() -> int:\n"
            "    global counter\n    counter += 1\n    return counter\n",
            "from dbos import DBOS\n\nSEEN: dict[str, int] = {}\n\n\n@DBOS.workflow()\n"
            "def wf(key: str) -> None:\n    SEEN[key] = 1\n",
            "from dbos import DBOS\n\nLOG = []\n\n\n@DBOS.workflow()\n"
            "def wf(key: str) -> None:\n    LOG.append(key)\n",
        ),
        not_flagged=(
            "from dbos import DBOS\n\nLIMIT = 10\nDEFAULTS = {'a': 1}\n\n\n@DBOS.workflow()\n"
            "def wf(n: int) -> int:\n    seen = {}\n    seen['a'] = DEFAULTS['a']\n"
            "    return min(n, LIMIT) + len(seen)\n",
        ),
    ),
)

#: Methods that change a container in place (mutating module-level state when it is shared).
MUTATING_METHODS = frozenset(
    (
        "append extend insert remove pop clear sort reverse add discard update setdefault "
        "popitem difference_update intersection_update symmetric_difference_update "
        "appendleft extendleft popleft rotate __setitem__ __delitem__"
    ).split()
)

#: Outside classes whose objects are plain mutable containers.
CONTAINERS = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.set",
        "builtins.bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
        "collections.ChainMap",
    }
)

FAMILY = Family(
    rules=RULES,
    calls={
        **{f"os.{f}": ENVIRONMENT for f in _OS_ENV},
        "builtins.input": ENVIRONMENT,
        "socket.gethostname": ENVIRONMENT,
    },
    modules={m: ENVIRONMENT for m in ("platform", "getpass")},
    accesses={
        _ENVIRON: ENVIRONMENT,
        "os.environb": ENVIRONMENT,
        "sys.argv": ENVIRONMENT,
        "sys.orig_argv": ENVIRONMENT,
    },
    mypy_aliases={
        f"os._Environ.{m}": _ENVIRON for m in ("get", "__getitem__", "items", "keys", "values")
    },
)
