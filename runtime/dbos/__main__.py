"""`python -m dbos`: the `dbos` admin command, for environments without the console script."""

from ._cli.main import main

raise SystemExit(main())
