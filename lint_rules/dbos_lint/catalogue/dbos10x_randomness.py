"""DBOS101-103: values drawn at random, which a recovered run would draw again differently.

Detected by ``checks/calls.py`` from the tables below: a call whose callee resolves to one of
``CALLS``, or to anything in a module of ``MODULES``; a generator class of ``SEEDABLE`` made
with fewer arguments than it lists (``random.Random()``: unseeded), or whose methods are
called on a generator shared at module level; any method of a ``CLIENTS`` object. The mypy
plugin reads the same tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

RANDOM = "DBOS101"
ENTROPY = "DBOS102"
UUID = "DBOS103"

_RANDOM_FUNCS = (
    "betavariate binomialvariate choice choices expovariate gammavariate gauss getrandbits "
    "getstate lognormvariate normalvariate paretovariate randbytes randint random randrange "
    "sample seed setstate shuffle triangular uniform vonmisesvariate weibullvariate"
).split()
#: numpy.random constructors that are deterministic when given a seed (or a seeded bit
#: generator); everything else in numpy.random draws from the global generator.
_NUMPY_SEEDABLE = (
    "default_rng RandomState Generator SeedSequence PCG64 PCG64DXSM MT19937 Philox SFC64"
).split()

RULES: tuple[Rule, ...] = (
    Rule(
        code=RANDOM,
        name="random-in-workflow",
        summary="A workflow draws from a global or unseeded generator (`random`, `numpy.random`, "
        "`random.Random()`, `default_rng()`), or from one shared at module level.",
        message="`{name}` draws random numbers in a workflow, so a recovered run takes a "
        "different path; move it into a @DBOS.step()",
        why="On recovery DBOS re-executes the workflow function and replays recorded step "
        "outputs. A random draw made directly in the workflow is not recorded, so the replay "
        "sees a new value and can call different steps than the original run did. A seeded "
        "generator kept at module level is no better: every workflow of the process draws from "
        "it, so what one run gets depends on the runs before it.",
        fix="Draw the random value inside a `@DBOS.step()` function and pass it on; its result "
        "is checkpointed. A `random.Random(seed)` (or `np.random.default_rng(seed)`) made in the "
        "workflow with a fixed seed is deterministic and allowed.",
        flagged=(
            _wf("x = random.randint(1, 6)", head="import random\n"),
            _wf("x = pick([1, 2])", head="from random import choice as pick\n"),
            _wf("rng = random.Random()", head="import random\n"),
            _wf("noise = np.random.normal(0, 1, 3)", head="import numpy as np\n"),
            _wf("rng = np.random.default_rng()", head="import numpy as np\n"),
            "import random\nfrom dbos import DBOS\n\nRNG = random.Random(7)\n\n\n"
            "@DBOS.workflow()\n"
            "def wf() -> float:\n    return RNG.random()\n",
        ),
        not_flagged=(
            _wf("rng = random.Random(42)\nx = rng.random()", head="import random\n"),
            "import random\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef roll() -> int:\n"
            "    return random.randint(1, 6)\n",
            "from dbos import DBOS\n\n\n@DBOS.workflow()\ndef wf(random: int) -> int:\n"
            "    return random\n",
            _wf(
                "rng = np.random.default_rng(42)\nx = rng.random(3)",
                head="import numpy as np\n",
            ),
        ),
    ),
    Rule(
        code=ENTROPY,
        name="os-entropy-in-workflow",
        summary="A workflow reads OS entropy (`secrets`, `os.urandom`, `random.SystemRandom`).",
        message="`{name}` reads OS entropy in a workflow, so a recovered run sees different "
        "bytes; move it into a @DBOS.step()",
        why="OS entropy is different on every call by design; a workflow that branches on it "
        "or passes it to a step replays differently after a crash.",
        fix="Generate tokens and keys in a `@DBOS.step()` so the value is checkpointed once.",
        flagged=(
            _wf("token = secrets.token_hex(16)", head="import secrets\n"),
            _wf("key = os.urandom(32)", head="import os\n"),
        ),
        not_flagged=(
            "import secrets\nfrom dbos import DBOS\n\n\n@DBOS.step()\ndef token() -> str:\n"
            "    return secrets.token_hex(16)\n",
        ),
    ),
    Rule(
        code=UUID,
        name="uuid-in-workflow",
        summary="A workflow generates a time- or entropy-based UUID (`uuid1`, `uuid4`, ...).",
        message="`{name}` generates a new UUID on every run, so a recovered workflow uses a "
        "different id; generate it in a @DBOS.step()",
        why="`uuid1` mixes the clock and host address, `uuid4` is random: a recovered workflow "
        "would produce a different id than the one the original run already handed out.",
        fix="Create the UUID in a `@DBOS.step()`, or derive it deterministically with "
        "`uuid.uuid5(namespace, name)` (or from `DBOS.workflow_id`).",
        flagged=(
            _wf("request_id = uuid.uuid4()", head="import uuid\n"),
            _wf("request_id = uuid1()", head="from uuid import uuid1\n"),
        ),
        not_flagged=(_wf('key = uuid.uuid5(uuid.NAMESPACE_URL, "x")', head="import uuid\n"),),
    ),
)

FAMILY = Family(
    rules=RULES,
    calls={
        **{f"random.{f}": RANDOM for f in _RANDOM_FUNCS},
        "random.SystemRandom": ENTROPY,
        "os.urandom": ENTROPY,
        "os.getrandom": ENTROPY,
        **{f"uuid.{f}": UUID for f in ("uuid1", "uuid4", "uuid6", "uuid7", "getnode")},
    },
    modules={"secrets": ENTROPY, "numpy.random": RANDOM},
    seedable={
        "random.Random": (1, RANDOM),
        **{f"numpy.random.{c}": (1, RANDOM) for c in _NUMPY_SEEDABLE},
    },
    clients={"random.SystemRandom": ENTROPY},
    mypy_aliases={
        "numpy.random._generator.default_rng": "numpy.random.default_rng",
        "numpy.random._generator.Generator": "numpy.random.Generator",
        "numpy.random.mtrand.RandomState": "numpy.random.RandomState",
        "numpy.random.bit_generator.SeedSequence": "numpy.random.SeedSequence",
        "numpy.random._pcg64.PCG64": "numpy.random.PCG64",
        "numpy.random._pcg64.PCG64DXSM": "numpy.random.PCG64DXSM",
        "numpy.random._mt19937.MT19937": "numpy.random.MT19937",
        "numpy.random._philox.Philox": "numpy.random.Philox",
        "numpy.random._sfc64.SFC64": "numpy.random.SFC64",
    },
)
