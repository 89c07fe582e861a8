"""The deny-list as data: which resolved qualified names break a workflow's replay.

Kept apart from the rule prose so the libcst checker and the mypy plugin match against the very
same tables, and so a reviewer can audit the list without reading visitor code.

Matching is on *resolved* qualified names (``from time import time as now`` makes ``now()`` read
``time.time``). Exact names win over module prefixes; the longest prefix wins among prefixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Rule codes, spelled once so a typo is a NameError rather than a silent mismatch.
RANDOM = "DBOS101"
ENTROPY = "DBOS102"
UUID = "DBOS103"
WALL_CLOCK = "DBOS111"
MONO_CLOCK = "DBOS112"
BLOCKING_SLEEP = "DBOS121"
ASYNC_SLEEP = "DBOS122"
FILESYSTEM = "DBOS201"
NETWORK = "DBOS202"
DATABASE = "DBOS203"
PROCESS = "DBOS204"
THREADS = "DBOS301"
COMPLETION_ORDER = "DBOS302"
ENVIRONMENT = "DBOS401"
MODULE_STATE = "DBOS402"
SET_ORDER = "DBOS501"
IDENTITY_HASH = "DBOS502"
PARAM_TYPE = "DBOS601"
RETURN_TYPE = "DBOS602"
GENERATOR = "DBOS603"
SQL_SESSION = "DBOS701"
RECV_OUTSIDE = "DBOS702"
WORKFLOW_IN_STEP = "DBOS703"
CONFIGURED = "DBOS901"
SYNTAX = "DBOS000"

_RANDOM_FUNCS = (
    "betavariate binomialvariate choice choices expovariate gammavariate gauss getrandbits "
    "getstate lognormvariate normalvariate paretovariate randbytes randint random randrange "
    "sample seed setstate shuffle triangular uniform vonmisesvariate weibullvariate"
).split()

_TIME_WALL = "time time_ns".split()
_TIME_MONO = (
    "monotonic monotonic_ns perf_counter perf_counter_ns process_time process_time_ns "
    "thread_time thread_time_ns clock_gettime clock_gettime_ns"
).split()

_OS_FILES = (
    "listdir scandir walk fwalk remove unlink rename renames replace mkdir makedirs rmdir "
    "removedirs stat lstat chmod chown link symlink readlink truncate utime access open "
    "read write fdopen mkfifo chdir"
).split()
_OS_PATH_FS = (
    "exists lexists isfile isdir islink ismount getsize getmtime getatime getctime "
    "realpath samefile expanduser"
).split()
_OS_PROCESS = (
    "system popen fork forkpty kill killpg abort execl execle execlp execlpe execv execve "
    "execvp execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe "
    "posix_spawn posix_spawnp wait waitpid"
).split()
_OS_ENV = (
    "getenv getenvb putenv unsetenv getpid getppid getcwd getcwdb getlogin getuid geteuid "
    "getgid getegid uname cpu_count times getloadavg"
).split()

_ASYNCIO_PROCESS = ("create_subprocess_exec", "create_subprocess_shell")
_ASYNCIO_NETWORK = ("open_connection start_server open_unix_connection start_unix_server").split()
#: numpy.random constructors that are deterministic when given a seed (or a seeded bit
#: generator); everything else in numpy.random draws from the global generator.
_NUMPY_SEEDABLE = (
    "default_rng RandomState Generator SeedSequence PCG64 PCG64DXSM MT19937 Philox SFC64"
).split()

#: pathlib methods that touch the file system (constructing or joining a Path does not).
PATH_IO_METHODS: frozenset[str] = frozenset(
    (
        "open read_text read_bytes write_text write_bytes exists is_file is_dir is_symlink "
        "is_mount iterdir glob rglob walk stat lstat mkdir rmdir unlink touch rename replace "
        "resolve absolute samefile chmod owner group readlink symlink_to hardlink_to "
        "expanduser cwd home"
    ).split()
)
PATH_CLASSES: frozenset[str] = frozenset(
    f"pathlib.{c}" for c in ("Path", "PosixPath", "WindowsPath")
)


def _exact() -> dict[str, str]:
    table: dict[str, str] = {}
    table.update({f"random.{f}": RANDOM for f in _RANDOM_FUNCS})
    table.update({"random.SystemRandom": ENTROPY, "os.urandom": ENTROPY, "os.getrandom": ENTROPY})
    table.update({f"uuid.{f}": UUID for f in ("uuid1", "uuid4", "uuid6", "uuid7", "getnode")})
    table.update({f"time.{f}": WALL_CLOCK for f in _TIME_WALL})
    for cls in ("datetime.datetime", "datetime.date"):
        table[f"{cls}.today"] = WALL_CLOCK
    table["datetime.datetime.now"] = WALL_CLOCK
    table["datetime.datetime.utcnow"] = WALL_CLOCK
    table.update({f"time.{f}": MONO_CLOCK for f in _TIME_MONO})
    table["time.sleep"] = BLOCKING_SLEEP
    table.update({f"{m}.sleep": ASYNC_SLEEP for m in ("asyncio", "anyio", "trio")})
    table.update({"builtins.open": FILESYSTEM, "io.open": FILESYSTEM})
    table.update({f"os.{f}": FILESYSTEM for f in _OS_FILES})
    table.update({f"os.path.{f}": FILESYSTEM for f in _OS_PATH_FS})
    table.update({f"{p}.{m}": FILESYSTEM for p in PATH_CLASSES for m in PATH_IO_METHODS})
    table.update({f"os.{f}": PROCESS for f in _OS_PROCESS})
    table.update({f"os.{f}": ENVIRONMENT for f in _OS_ENV})
    table.update({"builtins.input": ENVIRONMENT, "socket.gethostname": ENVIRONMENT})
    table.update({f"asyncio.{f}": THREADS for f in ("to_thread", "run_coroutine_threadsafe")})
    table.update({f"asyncio.{f}": COMPLETION_ORDER for f in ("wait", "as_completed")})
    table.update({f"asyncio.{f}": PROCESS for f in _ASYNCIO_PROCESS})
    table.update({f"asyncio.{f}": NETWORK for f in _ASYNCIO_NETWORK})
    table.update({"builtins.hash": IDENTITY_HASH, "builtins.id": IDENTITY_HASH})
    return table


def _modules() -> dict[str, str]:
    table: dict[str, str] = {}
    table.update({"secrets": ENTROPY})
    table.update({m: FILESYSTEM for m in ("shutil", "tempfile", "glob", "fileinput", "shelve")})
    network = (
        "socket ssl urllib.request http.client ftplib smtplib imaplib poplib telnetlib "
        "xmlrpc.client webbrowser requests httpx aiohttp urllib3 websockets grpc"
    ).split()
    table.update({m: NETWORK for m in network})
    databases = (
        "sqlite3 psycopg psycopg2 psycopg_pool asyncpg pymysql MySQLdb mysql.connector "
        "pymongo motor redis boto3 aiosqlite"
    ).split()
    table.update({m: DATABASE for m in databases})
    table.update({m: PROCESS for m in ("subprocess", "signal", "pty")})
    table.update({m: THREADS for m in ("threading", "_thread", "multiprocessing")})
    table["concurrent.futures"] = THREADS
    table.update({m: ENVIRONMENT for m in ("platform", "getpass")})
    table["numpy.random"] = RANDOM
    return table


EXACT_CALLS: Mapping[str, str] = MappingProxyType(_exact())
MODULE_CALLS: Mapping[str, str] = MappingProxyType(_modules())

#: Names flagged when merely read (no call needed): reading them observes host state.
ACCESSES: Mapping[str, str] = MappingProxyType(
    {
        "os.environ": ENVIRONMENT,
        "os.environb": ENVIRONMENT,
        "sys.argv": ENVIRONMENT,
        "sys.orig_argv": ENVIRONMENT,
    }
)

#: Calls that are deterministic when given arguments: flag only when called with fewer
#: positional/keyword arguments than this (``random.Random(42)`` is fine, ``Random()`` is not).
MIN_ARGS_TO_BE_SAFE: Mapping[str, int] = MappingProxyType(
    {
        "random.Random": 1,
        **{f"numpy.random.{c}": 1 for c in _NUMPY_SEEDABLE},
        "time.localtime": 1,
        "time.gmtime": 1,
        "time.ctime": 1,
        "time.asctime": 1,
        "time.strftime": 2,
    }
)
_MIN_ARGS_CODES = {
    "random.Random": RANDOM,
    **{f"numpy.random.{c}": RANDOM for c in _NUMPY_SEEDABLE},
    "time.localtime": WALL_CLOCK,
    "time.gmtime": WALL_CLOCK,
    "time.ctime": WALL_CLOCK,
    "time.asctime": WALL_CLOCK,
    "time.strftime": WALL_CLOCK,
}
MIN_ARGS_CODES: Mapping[str, str] = MappingProxyType(_MIN_ARGS_CODES)

#: Names inside a deny-listed module that are safe to call: raising or catching an exception
#: class, or building a config value, does no I/O.
SAFE_SUFFIXES: tuple[str, ...] = ("Error", "Exception", "Warning", "Timeout", "Exit")

#: Plain data and pure functions that live in deny-listed modules: building a URL or a
#: request object, a lock, converting an address does no I/O and gives the same result on
#: every run.
SAFE_NAMES: frozenset[str] = frozenset(
    [
        *(
            f"httpx.{c}"
            for c in "URL Headers QueryParams Cookies Request Response Limits BasicAuth".split()
        ),
        *(f"requests.{c}" for c in ("Request", "PreparedRequest")),
        *(f"requests.auth.{c}" for c in ("HTTPBasicAuth", "HTTPDigestAuth", "HTTPProxyAuth")),
        "requests.structures.CaseInsensitiveDict",
        *(f"aiohttp.{c}" for c in ("BasicAuth", "FormData")),
        "urllib3.Retry",
        "urllib3.util.Retry",
        "urllib.request.Request",
        *(
            f"socket.{f}"
            for f in "inet_aton inet_ntoa inet_pton inet_ntop htons ntohs htonl ntohl".split()
        ),
        "subprocess.list2cmdline",
        *(
            f"threading.{c}"
            for c in "Lock RLock Event Condition Semaphore BoundedSemaphore Barrier".split()
        ),
    ]
)

#: Non-serializable annotation types for workflow/step signatures.
UNSERIALIZABLE_TYPES: frozenset[str] = frozenset(
    [
        *(f"{m}.{n}" for m in ("typing", "collections.abc") for n in ("Callable",)),
        *(
            f"{m}.{n}"
            for m in ("typing", "collections.abc")
            for n in (
                "Iterator",
                "Generator",
                "AsyncIterator",
                "AsyncGenerator",
                "Awaitable",
                "Coroutine",
            )
        ),
        "typing.IO",
        "typing.TextIO",
        "typing.BinaryIO",
        "io.IOBase",
        "io.TextIOWrapper",
        "io.BufferedReader",
        "io.BufferedWriter",
        "io.BytesIO",
        "io.StringIO",
        "threading.Lock",
        "threading.RLock",
        "threading.Thread",
        "threading.Event",
        "threading.Condition",
        "threading.Semaphore",
        "multiprocessing.Process",
        "multiprocessing.Queue",
        "asyncio.Task",
        "asyncio.Future",
        "asyncio.Lock",
        "asyncio.Event",
        "asyncio.Queue",
        "concurrent.futures.Future",
        "socket.socket",
        "types.ModuleType",
        "types.FunctionType",
        "types.LambdaType",
        "types.GeneratorType",
        "types.CoroutineType",
        "types.FrameType",
        "types.TracebackType",
        "sqlite3.Connection",
        "sqlite3.Cursor",
        "sqlalchemy.orm.Session",
        "sqlalchemy.engine.Connection",
        "sqlalchemy.engine.Engine",
        "sqlalchemy.Connection",
        "sqlalchemy.Engine",
        "requests.Response",
        "httpx.Response",
        "aiohttp.ClientResponse",
        "http.client.HTTPResponse",
    ]
)

#: Set-typed annotations: iterating a parameter declared this way has no stable order.
SET_TYPES: frozenset[str] = frozenset(
    [
        "builtins.set",
        "builtins.frozenset",
        "typing.Set",
        "typing.FrozenSet",
        "typing.AbstractSet",
        "collections.abc.Set",
    ]
)

#: The dbos names we recognise, after alias resolution.
WORKFLOW_DECORATORS: frozenset[str] = frozenset(["dbos.DBOS.workflow"])
STEP_DECORATORS: frozenset[str] = frozenset(["dbos.DBOS.step"])
TRANSACTION_DECORATORS: frozenset[str] = frozenset(["dbos.DBOS.transaction"])
SQL_SESSION_NAMES: frozenset[str] = frozenset(["dbos.DBOS.sql_session"])
RECV_CALLS: frozenset[str] = frozenset(["dbos.DBOS.recv", "dbos.DBOS.recv_async"])
START_WORKFLOW_CALLS: frozenset[str] = frozenset(
    ["dbos.DBOS.start_workflow", "dbos.DBOS.start_workflow_async"]
)
QUEUE_CLASSES: frozenset[str] = frozenset(["dbos.Queue"])
ENQUEUE_METHODS: frozenset[str] = frozenset(["enqueue", "enqueue_async"])


#: mypy reports *definition* fullnames; typeshed defines some public names elsewhere.
MYPY_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "asyncio.tasks.sleep": "asyncio.sleep",
        "asyncio.tasks.wait": "asyncio.wait",
        "asyncio.tasks.as_completed": "asyncio.as_completed",
        "asyncio.threads.to_thread": "asyncio.to_thread",
        "asyncio.tasks.run_coroutine_threadsafe": "asyncio.run_coroutine_threadsafe",
        **{f"asyncio.subprocess.{f}": f"asyncio.{f}" for f in _ASYNCIO_PROCESS},
        **{f"asyncio.streams.{f}": f"asyncio.{f}" for f in _ASYNCIO_NETWORK},
        "os._Environ.get": "os.environ",
        "os._Environ.__getitem__": "os.environ",
        "os._Environ.items": "os.environ",
        "os._Environ.keys": "os.environ",
        "os._Environ.values": "os.environ",
        "posixpath.exists": "os.path.exists",
        "posixpath.isfile": "os.path.isfile",
        "posixpath.isdir": "os.path.isdir",
        "posixpath.getsize": "os.path.getsize",
        "posixpath.getmtime": "os.path.getmtime",
        "genericpath.exists": "os.path.exists",
        "genericpath.isfile": "os.path.isfile",
        "genericpath.isdir": "os.path.isdir",
        "genericpath.getsize": "os.path.getsize",
        "genericpath.getmtime": "os.path.getmtime",
        "io.open": "builtins.open",
        "numpy.random._generator.default_rng": "numpy.random.default_rng",
        "numpy.random._generator.Generator": "numpy.random.Generator",
        "numpy.random.mtrand.RandomState": "numpy.random.RandomState",
        "numpy.random.bit_generator.SeedSequence": "numpy.random.SeedSequence",
        "numpy.random._pcg64.PCG64": "numpy.random.PCG64",
        "numpy.random._pcg64.PCG64DXSM": "numpy.random.PCG64DXSM",
        "numpy.random._mt19937.MT19937": "numpy.random.MT19937",
        "numpy.random._philox.Philox": "numpy.random.Philox",
        "numpy.random._sfc64.SFC64": "numpy.random.SFC64",
    }
)


def classify_call(
    name: str,
    *,
    nargs: int,
    allow_module_prefix: bool,
    extra_forbidden: frozenset[str] = frozenset(),
    extra_allowed: frozenset[str] = frozenset(),
) -> str | None:
    """The rule code a call to ``name`` breaks inside a workflow, if any.

    ``allow_module_prefix`` is False when the name is not a plain dotted path to the callee
    (``requests.get(u).json`` reads as ``requests.get.json``): then only exact names count, so a
    method chain is reported once, at the call that really does the I/O.
    """
    if matches_name(name, extra_allowed):
        return None
    if name in extra_forbidden or (allow_module_prefix and matches_name(name, extra_forbidden)):
        return CONFIGURED
    if name in MIN_ARGS_TO_BE_SAFE:
        return MIN_ARGS_CODES[name] if nargs < MIN_ARGS_TO_BE_SAFE[name] else None
    if name in EXACT_CALLS:
        return EXACT_CALLS[name]
    if not allow_module_prefix:
        return None
    module, _, leaf = name.rpartition(".")
    if leaf.endswith(SAFE_SUFFIXES) or name in SAFE_NAMES:
        return None
    while module:
        if module in MODULE_CALLS:
            return MODULE_CALLS[module]
        module = module.rpartition(".")[0]
    return None


def matches_name(name: str, patterns: frozenset[str]) -> bool:
    """Exact name or anything inside it: ``myapp.flags`` covers ``myapp.flags.is_enabled``."""
    return name in patterns or any(name.startswith(p + ".") for p in patterns)
