"""Mixins shared by the workflow classes."""

import datetime


class AuditMixin:
    audit_path = "audit.log"

    def _audit(self, event: str) -> None:
        with open(self.audit_path, "a") as handle:  # expect: DBOS201
            handle.write(event + "\n")


class TimestampMixin(AuditMixin):
    def _stamped(self, event: str) -> str:
        return f"{datetime.datetime.now().isoformat()} {event}"  # expect: DBOS111
