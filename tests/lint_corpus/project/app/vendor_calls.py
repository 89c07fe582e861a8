"""A helper that uses a third-party client: that call is classified by the deny-list, and the
third-party module itself is not looked for in the project."""

import requests
from someone_elses_sdk import client


def call_api(url: str) -> str:
    client.configure(url)
    return requests.get(url, timeout=5).text  # expect: DBOS202
