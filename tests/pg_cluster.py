"""``python tests/pg_cluster.py``: the throwaway PostgreSQL server of
``tests/servers/pg_cluster.py`` under its former path, which the shared conformance harness's
README still names. Start it as ``python tests/servers/pg_cluster.py``; this only forwards."""

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).with_name("servers") / "pg_cluster.py"), run_name="__main__")
