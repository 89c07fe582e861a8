"""Workflows that reach nondeterminism through aliases, instances, mixins and re-exports."""

import time

import requests

from billing import ROOT, Flags, PaymentClient, stamp
from billing.config import region
from billing.util import new_reference
from dbos import DBOS, DBOSConfiguredInstance

from .mixins import TimestampMixin

clock = getattr(time, "time")
SHARED_SESSION = requests.Session()


@DBOS.workflow()
def charge(account: str, cents: int) -> str:
    started = stamp()
    if Flags().enabled("dry_run") or region() == "test":
        return "dry"
    rates = (ROOT / "rates.json").read_text()  # expect: DBOS201
    reference = new_reference("ch")
    PaymentClient().charge(account, cents)
    return f"{reference}:{started}:{len(rates)}:{clock()}"  # expect: DBOS111


@DBOS.workflow()
def ping() -> int:
    return SHARED_SESSION.get("https://pay.example.com/ping").status_code  # expect: DBOS202


@DBOS.dbos_class()
class Settlement(TimestampMixin, DBOSConfiguredInstance):
    def __init__(self, name: str) -> None:
        self.http = requests.Session()
        self.timeout = 10
        super().__init__(config_name=name)

    @DBOS.step()
    def fetch(self, batch: str) -> str:
        return str(self.http.get(f"https://pay.example.com/batches/{batch}").text)

    @DBOS.workflow()
    def settle(self, batch: str) -> str:
        body = self.fetch(batch)
        status = self.http.get(f"https://pay.example.com/status/{batch}")  # expect: DBOS202
        self._audit(f"settled {batch}")
        return self._stamped(body) + str(status) + str(self.timeout)
