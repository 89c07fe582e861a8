"""How workflow inputs, step outputs, results and errors become text in the system database.

The default format (`dbos_json`) is JSON so that stored rows stay readable by other tools and so
that reading a row can never execute code the way unpickling can. Values that plain JSON cannot
represent faithfully are written as tagged objects::

    {"__dbos__": "<tag>", ...}

Replay hands the stored value back to the workflow in place of re-running the step, so a value
must come back with exactly the type it had (a tuple must not turn into a list), otherwise the
replayed run could take a different branch than the original one. Plain JSON values (str, int,
float, bool, None, and lists / str-keyed dicts of them) are written as plain JSON with no tags.

Tags (every tagged object has the tag key plus the fields listed):

=============  ==================================================================
``tuple``      ``v``: list of elements
``set``        ``v``: list of elements (sorted when the elements allow it)
``frozenset``  ``v``: list of elements
``dict``       ``v``: list of ``[key, value]`` pairs; used for dicts with a non-str key
               or with the tag key itself, so a user's dict never reads as a tag
``bytes``      ``v``: base64 text (``bytearray`` likewise)
``float``      ``v``: ``"nan"``, ``"inf"`` or ``"-inf"`` (kept out of plain JSON, which has
               no such literals)
``int``        ``v``: hex text, for ints too long for Python's decimal-digit limit
``datetime``   ``v``: isoformat (with UTC offset when aware); ``zone``: zoneinfo key;
               ``tzname``: name of a named fixed-offset timezone; ``fold``: 1 when set
``date``       ``v``: isoformat
``time``       like ``datetime``
``timedelta``  ``v``: ``[days, seconds, microseconds]``
``decimal``    ``v``: ``str(value)``
``uuid``       ``v``: canonical text
``enum``       ``module``, ``qualname``, ``v``: the member's value
``dataclass``  ``module``, ``qualname``, ``v``: field name -> value
``pydantic``   ``module``, ``qualname``, ``v``: field name -> value; ``extra`` and
               ``fields_set`` when they carry information
``namedtuple`` ``module``, ``qualname``, ``v``: list of elements
``exception``  ``module``, ``qualname``, ``message`` (``str(exc)``), ``args`` (constructor
               arguments; absent when they could not be stored)
``row``        ``fields``: column names, ``v``: values (a result row; read as ``CompatRow``)
``object``     ``module``, ``qualname``, ``v``: the instance's ``__dict__`` (a plain class:
               ``object.__new__``, no slots or pickling hooks; rebuilt without ``__init__``)
=============  ==================================================================

The portable format (`portable.py`, upstream DBOS's `portable_json`) is the other built-in
one: plain JSON that every DBOS implementation reads, chosen per workflow or per value.

Classes are only ever looked up among modules that are already imported: stored text chooses
which class to build, so importing a module it names would let a database row run import-time
code.
"""

from __future__ import annotations

from .base import Serializer
from .portable import (
    PORTABLE_FORMAT,
    PORTABLE_SERIALIZER,
    DBOSPortableJSONSerializer,
    PortableWorkflowError,
    WorkflowSerializationFormat,
)
from .serializers import (
    DEFAULT_SERIALIZER,
    JSONSerializer,
    PickleSerializer,
    deserialize_exception,
    deserialize_inputs,
    reader_for,
    serialize_exception,
    serialize_inputs,
)

__all__ = [
    "DEFAULT_SERIALIZER",
    "PORTABLE_FORMAT",
    "PORTABLE_SERIALIZER",
    "DBOSPortableJSONSerializer",
    "JSONSerializer",
    "PickleSerializer",
    "PortableWorkflowError",
    "Serializer",
    "WorkflowSerializationFormat",
    "deserialize_exception",
    "deserialize_inputs",
    "reader_for",
    "serialize_exception",
    "serialize_inputs",
]
