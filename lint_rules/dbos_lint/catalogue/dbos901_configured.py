"""DBOS901: names the project itself forbids in workflows (``extra-forbidden`` in
``[tool.dbos-compile]``).

Detected by ``checks/calls.py`` (a call of an outside name or method matching the setting,
``names.classify_call``) and ``checks/rule_base.py`` (a project function matching it is
reported where it is called instead of being followed). The names live in the project's
configuration (``catalogue/settings.py``), not here.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

CONFIGURED = "DBOS901"

RULES: tuple[Rule, ...] = (
    Rule(
        code=CONFIGURED,
        name="configured-forbidden-call",
        summary="A workflow calls a name listed in `extra-forbidden` in `[tool.dbos-compile]`.",
        message="`{name}` is listed as forbidden in workflows by the project's "
        "[tool.dbos-compile] extra-forbidden setting; call it from a @DBOS.step()",
        why="Projects know their own nondeterministic helpers (clients, caches, feature flags); "
        "listing them extends the catalogue without a plugin.",
        fix="Move the call into a step, or remove the name from `extra-forbidden`.",
        flagged=(_wf("on = flags.is_enabled('beta')", head="from myapp import flags\n"),),
        not_flagged=(_wf("x = flags.DEFAULTS", head="from myapp import flags\n"),),
        example_forbidden=("myapp.flags.is_enabled",),
    ),
)

FAMILY = Family(
    rules=RULES,
)
