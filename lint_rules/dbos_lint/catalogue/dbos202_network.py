"""DBOS202: network I/O, whose answers differ on recovery (and which a replay repeats).

Detected by ``checks/calls.py`` from the tables below: a call into a module of ``MODULES``
(unless the name is one of ``SAFE``: building a URL or a request does no I/O) or to one of
``CALLS``; any method of a ``CLIENTS`` object, however it reached the workflow (``self.http``,
a module-level session); a method of ``METHODS`` on the running loop. The mypy plugin reads
the same tables.
"""

from __future__ import annotations

from dbos_lint.catalogue.rule import EVENT_LOOP, Family, Rule
from dbos_lint.catalogue.rule import workflow_example as _wf

NETWORK = "DBOS202"

_ASYNCIO_NETWORK = ("open_connection start_server open_unix_connection start_unix_server").split()

RULES: tuple[Rule, ...] = (
    Rule(
        code=NETWORK,
        name="network-in-workflow",
        summary="A workflow does network I/O (`requests`, `httpx`, `aiohttp`, `socket`, "
        "`asyncio.open_connection`...), also through a client kept on `self` or at module "
        "level.",
        message="`{name}` does network I/O in a workflow; responses differ on recovery and the "
        "request is repeated, so call it from a @DBOS.step()",
        why="A remote answer is not recorded unless it comes back through a step. On recovery "
        "the request is sent again and may get a different response (or fail).",
        fix="Put the call in a `@DBOS.step()` (with `retries_allowed=True` for transient "
        "failures) and call the step from the workflow.",
        flagged=(
            _wf('r = requests.get("https://example.com")', head="import requests\n"),
            _wf("client = httpx.Client()", head="import httpx\n"),
            _wf("session = aiohttp.ClientSession()", head="import aiohttp\n", is_async=True),
            "import requests\nfrom dbos import DBOS, DBOSConfiguredInstance\n\n\n"
            "@DBOS.dbos_class()\n"
            "class Api(DBOSConfiguredInstance):\n    def __init__(self) -> None:\n"
            "        self.http = requests.Session()\n"
            '        super().__init__(config_name="api")\n\n'
            "    @DBOS.workflow()\n    def run(self, url: str) -> int:\n"
            "        return self.http.get(url).status_code\n",
            _wf(
                'r, w = await asyncio.open_connection("example.com", 443)',
                head="import asyncio\n",
                is_async=True,
            ),
        ),
        not_flagged=(
            "import requests\nfrom dbos import DBOS\n\n\n@DBOS.step()\n"
            "def fetch(url: str) -> str:\n"
            "    return requests.get(url).text\n\n\n@DBOS.workflow()\ndef wf(url: str) -> str:\n"
            "    return fetch(url)\n",
            _wf(
                "try:\n    pass\nexcept requests.RequestException:\n    raise "
                "requests.HTTPError('x')",
                head="import requests\n",
            ),
            "import requests\nfrom dbos import DBOS, DBOSConfiguredInstance\n\n\n"
            "@DBOS.dbos_class()\n"
            "class Api(DBOSConfiguredInstance):\n    def __init__(self) -> None:\n"
            "        self.http = requests.Session()\n"
            '        super().__init__(config_name="api")\n\n'
            "    @DBOS.step()\n    def get(self, url: str) -> int:\n"
            "        return self.http.get(url).status_code\n\n"
            "    @DBOS.workflow()\n    def run(self, url: str) -> int:\n"
            "        return self.get(url)\n",
        ),
    ),
)

FAMILY = Family(
    rules=RULES,
    calls={f"asyncio.{f}": NETWORK for f in _ASYNCIO_NETWORK},
    modules={
        m: NETWORK
        for m in (
            "socket ssl urllib.request http.client ftplib smtplib imaplib poplib telnetlib "
            "xmlrpc.client webbrowser requests httpx aiohttp urllib3 websockets grpc"
        ).split()
    },
    clients={
        cls: NETWORK
        for cls in (
            "requests.Session",
            "httpx.Client",
            "httpx.AsyncClient",
            "aiohttp.ClientSession",
            "urllib3.PoolManager",
            "urllib3.HTTPConnectionPool",
            "urllib3.HTTPSConnectionPool",
            "http.client.HTTPConnection",
            "http.client.HTTPSConnection",
            "ftplib.FTP",
            "ftplib.FTP_TLS",
            "smtplib.SMTP",
            "smtplib.SMTP_SSL",
            "imaplib.IMAP4",
            "imaplib.IMAP4_SSL",
            "poplib.POP3",
            "xmlrpc.client.ServerProxy",
            "socket.socket",
            "ssl.SSLSocket",
            "grpc.Channel",
        )
    },
    methods={
        f"{EVENT_LOOP}.{m}": NETWORK
        for m in (
            "getaddrinfo",
            "getnameinfo",
            "create_connection",
            "create_datagram_endpoint",
            "create_server",
            "create_unix_connection",
            "sock_connect",
            "sock_recv",
            "sock_sendall",
        )
    },
    safe=frozenset(
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
        ]
    ),
    mypy_aliases={f"asyncio.streams.{f}": f"asyncio.{f}" for f in _ASYNCIO_NETWORK},
)
