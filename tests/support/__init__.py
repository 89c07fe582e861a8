"""Helpers the tests import (``from support.import_graph import ...``): not tests themselves.
``tests/`` is on ``sys.path`` because pytest puts the root ``conftest.py``'s folder there."""
