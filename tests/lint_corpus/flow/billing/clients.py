"""A payment client that keeps its HTTP session on the instance."""

import requests


class PaymentClient:
    def __init__(self, base_url: str = "https://pay.example.com") -> None:
        self.base_url = base_url
        self.http = requests.Session()  # expect: DBOS202

    def charge(self, account: str, cents: int) -> dict[str, object]:
        response = self.http.post(
            f"{self.base_url}/charges", json={"account": account, "cents": cents}
        )
        return dict(response.json())

    def base(self) -> str:
        return self.base_url
