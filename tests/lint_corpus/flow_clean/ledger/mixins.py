"""Mixins whose helpers are pure, or steps."""

import datetime

from dbos import DBOS


class FormatMixin:
    prefix = "ledger"

    def _label(self, event: str) -> str:
        return f"{self.prefix}:{event}"


class AuditMixin(FormatMixin):
    @DBOS.step()
    def _audit(self, event: str) -> None:
        with open("audit.log", "a") as handle:
            handle.write(f"{datetime.datetime.now().isoformat()} {self._label(event)}\n")

    def _fixed_date(self) -> str:
        return datetime.datetime(2024, 1, 1).isoformat()
