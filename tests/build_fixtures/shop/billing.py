"""Class-based workflows: a configured instance's methods call its steps through ``self``."""

from __future__ import annotations

from dbos import DBOS, DBOSConfiguredInstance


@DBOS.dbos_class()
class Till(DBOSConfiguredInstance):
    def __init__(self, name: str, fee: int) -> None:
        self.fee = fee
        super().__init__(name)

    @DBOS.step()
    def charge(self, cents: int) -> int:
        return cents + self.fee

    @DBOS.workflow()
    def pay(self, cents: int) -> int:
        first = self.charge(cents)
        return self.charge(first)
