"""Seed: basic application structure, retries and database transactions."""

import os

import requests
from sqlalchemy import Column, MetaData, String, Table

from dbos import DBOS, DBOSConfig

config: DBOSConfig = {
    "name": "my-app",
    "system_database_url": os.environ.get("DBOS_SYSTEM_DATABASE_URL"),
}
DBOS(config=config)


@DBOS.step()
def call_external_api(data: str) -> dict:
    response = requests.post("https://api.example.com", json={"data": data})
    return response.json()


@DBOS.step()
def process_result(result: dict) -> str:
    return result.get("status", "unknown")


@DBOS.workflow()
def my_workflow(input_data: str) -> str:
    api_result = call_external_api(input_data)
    status = process_result(api_result)
    return status


@DBOS.step(retries_allowed=True, max_attempts=10)
def unreliable_api_call(url: str) -> str:
    response = requests.get(url)
    response.raise_for_status()
    return response.text


metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String),
)


@DBOS.transaction()
def create_user(user_id: str, name: str) -> None:
    DBOS.sql_session.execute(users.insert().values(id=user_id, name=name))


@DBOS.transaction()
def get_user(user_id: str) -> dict:
    result = DBOS.sql_session.execute(users.select().where(users.c.id == user_id)).fetchone()
    return dict(result) if result else None


@DBOS.workflow()
def user_workflow(user_id: str, name: str) -> dict:
    create_user(user_id, name)
    return get_user(user_id)


if __name__ == "__main__":
    DBOS.launch()
    result = my_workflow("hello")
