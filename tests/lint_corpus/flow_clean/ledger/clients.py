"""A client whose I/O happens only in steps; the workflow uses its plain attributes."""

import requests

from dbos import DBOS


class LedgerClient:
    def __init__(self, base_url: str = "https://ledger.example.com") -> None:
        self.base_url = base_url
        self.timeout = 5

    @DBOS.step()
    def post(self, entry: dict[str, str]) -> int:
        with requests.Session() as http:
            return http.post(self.base_url, json=entry, timeout=self.timeout).status_code

    def endpoint(self, name: str) -> str:
        return f"{self.base_url}/{name}"
