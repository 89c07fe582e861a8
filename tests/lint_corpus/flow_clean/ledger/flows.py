"""Workflows shaped like the billing app's, without its nondeterminism."""

import time

from dbos import DBOS, DBOSConfiguredInstance
from ledger import ROOT, Flags, LedgerClient, fmt_amount
from ledger.config import DEBUG, DEFAULTS, REGION, rates_path
from ledger.util import parse_amount

from .mixins import AuditMixin

_now = time.time
pick = getattr(DEFAULTS, "get")


@DBOS.step()
def read_rates(path: str) -> str:
    with open(path) as handle:
        return handle.read() + str(_now())


@DBOS.workflow()
def book(account: str, amount: str) -> str:
    cents = parse_amount(amount)
    if Flags(frozenset({"dry_run"})).enabled("dry_run") or DEBUG:
        return "dry"
    rates = read_rates(str(ROOT / "rates.json"))
    client = LedgerClient()
    status = client.post({"account": account, "amount": fmt_amount(cents)})
    return f"{client.endpoint('entries')}:{status}:{rates_path('eur').name}:{REGION}:{pick('x')}"


@DBOS.dbos_class()
class Closing(AuditMixin, DBOSConfiguredInstance):
    def __init__(self, name: str) -> None:
        self.client = LedgerClient()
        self.retries = 3
        self.seen: dict[str, int] = {}
        super().__init__(config_name=name)

    @DBOS.workflow()
    def close(self, period: str) -> str:
        self._audit(f"closing {period}")
        status = self.client.post({"period": period})
        return f"{self._label(period)}:{self._fixed_date()}:{status}:{self.retries}"
