"""What the checker knows about objects: what calls return, and what objects' methods do.

``names`` says which *names* break replay (``time.time``, anything in ``requests``). This module
carries that knowledge over to *objects* (the families' ``clients`` and ``methods`` tables,
merged, and what the value flow must know of outside objects): a ``requests.Session`` kept on
``self`` does network I/O whenever one of its methods is called, ``asyncio.get_running_loop()``
returns a loop whose ``time()`` is a process clock, ``Path(...) / "x"`` is still a path. The
evaluator uses these tables to give call results a class, and the body rules to judge method
calls on them.

Like the deny-list, this is data a reviewer can audit; the mypy plugin reads the same tables
(by the names mypy reports, mapped through ``names.MYPY_ALIASES``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dbos_lint.catalogue import names as n
from dbos_lint.catalogue.dbos201_filesystem import PATH_CLASSES
from dbos_lint.catalogue.names import merged

_PATH_RETURNING = (
    "joinpath with_name with_stem with_suffix relative_to absolute resolve expanduser "
    "__truediv__ __rtruediv__ cwd home with_segments"
).split()
_PATH_ATTRIBUTES = ("parent",)

#: Calls whose result is an object of another class than the name called (the default:
#: calling ``X`` gives an ``X``, right for classes and harmless for functions).
RETURNS: Mapping[str, str] = MappingProxyType(
    {
        "asyncio.get_running_loop": "asyncio.AbstractEventLoop",
        "asyncio.get_event_loop": "asyncio.AbstractEventLoop",
        "asyncio.new_event_loop": "asyncio.AbstractEventLoop",
        "builtins.open": "io.TextIOWrapper",
        "io.open": "io.TextIOWrapper",
        "pathlib.Path.open": "io.TextIOWrapper",
        "sqlite3.connect": "sqlite3.Connection",
        "sqlite3.Connection.cursor": "sqlite3.Cursor",
        "psycopg.connect": "psycopg.Connection",
        "psycopg2.connect": "psycopg2.extensions.connection",
        "socket.create_connection": "socket.socket",
        "requests.session": "requests.Session",
        "multiprocessing.Pool": "multiprocessing.pool.Pool",
        "pymysql.connect": "pymysql.connections.Connection",
        "asyncpg.connect": "asyncpg.Connection",
        "asyncpg.create_pool": "asyncpg.Pool",
        "aiosqlite.connect": "aiosqlite.Connection",
        "redis.from_url": "redis.Redis",
        "grpc.insecure_channel": "grpc.Channel",
        "grpc.secure_channel": "grpc.Channel",
        "asyncio.create_subprocess_exec": "asyncio.subprocess.Process",
        "asyncio.create_subprocess_shell": "asyncio.subprocess.Process",
        "sqlalchemy.create_engine": "sqlalchemy.engine.Engine",
        "sqlalchemy.engine.Engine.connect": "sqlalchemy.engine.Connection",
        "sqlalchemy.engine.Engine.begin": "sqlalchemy.engine.Connection",
        "sqlalchemy.orm.sessionmaker.__call__": "sqlalchemy.orm.Session",
        "sqlalchemy.ext.asyncio.create_async_engine": "sqlalchemy.ext.asyncio.AsyncEngine",
        "numpy.random.default_rng": "numpy.random.Generator",
        **{f"{c}.{m}": "pathlib.Path" for c in PATH_CLASSES for m in _PATH_RETURNING},
    }
)

#: Attributes (no call) holding an object of a known class.
ATTRIBUTES: Mapping[str, str] = MappingProxyType(
    {f"{c}.{a}": "pathlib.Path" for c in PATH_CLASSES for a in _PATH_ATTRIBUTES}
)

#: Classes whose objects do I/O (or draw entropy) in every method: a client kept on ``self``
#: or at module level is as nondeterministic as the module that made it. Listed explicitly
#: (a network library's ``Response`` or ``URL`` is plain data).
CLIENT_CLASSES: Mapping[str, str] = merged(lambda f: f.clients)

#: Definition names of the same classes (re-exports, mypy's view) -> the public name.
CLASS_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "sqlalchemy.orm.session.Session": "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.sessionmaker": "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.engine.base.Engine": "sqlalchemy.engine.Engine",
        "sqlalchemy.engine.base.Connection": "sqlalchemy.engine.Connection",
        "sqlalchemy.ext.asyncio.session.AsyncSession": "sqlalchemy.ext.asyncio.AsyncSession",
        "requests.sessions.Session": "requests.Session",
        "httpx._client.Client": "httpx.Client",
        "httpx._client.AsyncClient": "httpx.AsyncClient",
        "aiohttp.client.ClientSession": "aiohttp.ClientSession",
        "asyncio.events.AbstractEventLoop": "asyncio.AbstractEventLoop",
        "asyncio.base_events.BaseEventLoop": "asyncio.AbstractEventLoop",
        "pathlib._local.Path": "pathlib.Path",
        "io.TextIOWrapper": "io.TextIOWrapper",
        "_io.TextIOWrapper": "io.TextIOWrapper",
        "_io.BufferedReader": "io.BufferedReader",
        "_io.BufferedWriter": "io.BufferedWriter",
        "sqlite3.dbapi2.Connection": "sqlite3.Connection",
        "sqlite3.dbapi2.Cursor": "sqlite3.Cursor",
        "redis.client.Redis": "redis.Redis",
        "subprocess.Popen": "subprocess.Popen",
        "threading.Thread": "threading.Thread",
        "concurrent.futures.thread.ThreadPoolExecutor": "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.process.ProcessPoolExecutor": "concurrent.futures.ProcessPoolExecutor",
        "psycopg.connection.Connection": "psycopg.Connection",
        "psycopg.connection_async.AsyncConnection": "psycopg.AsyncConnection",
    }
)

#: Methods of outside objects that break replay whatever made the object.
METHOD_CALLS: Mapping[str, str] = merged(lambda f: f.methods)


def public_class(name: str) -> str:
    return CLASS_ALIASES.get(name, name)


def client_code(cls: str) -> str | None:
    """The code every method call on an object of ``cls`` breaks, if it is a client."""
    return CLIENT_CLASSES.get(public_class(cls))


def method_code(cls: str, method: str, *, unseeded: bool, shared: bool) -> str | None:
    """The code calling ``obj.method(...)`` breaks, for an object of outside class ``cls``."""
    cls = public_class(cls)
    name = f"{cls}.{method}"
    if name in n.EXACT_CALLS:
        return n.EXACT_CALLS[name]
    if name in METHOD_CALLS:
        return METHOD_CALLS[name]
    if cls in n.MIN_ARGS_TO_BE_SAFE:
        # A seeded generator is deterministic, unless every workflow of the process draws from
        # the same one (a module-level generator): then the draws depend on the others.
        return n.MIN_ARGS_CODES[cls] if (unseeded or shared) else None
    return client_code(cls)
