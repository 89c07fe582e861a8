"""``python -m dbos_compile`` runs the same CLI as the ``dbos-compile`` console script."""

import sys

from dbos_compile.cli import main

sys.exit(main())
