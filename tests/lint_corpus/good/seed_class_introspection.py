"""Seed: class-based workflows, introspection, testing fixture and configuration."""

import pytest
import requests

from dbos import DBOS, DBOSConfig, DBOSConfiguredInstance


@DBOS.dbos_class()
class DataProcessor(DBOSConfiguredInstance):
    def __init__(self, source_url: str):
        self.source_url = source_url
        super().__init__(config_name=source_url)

    @DBOS.step()
    def fetch_data(self) -> dict:
        return requests.get(self.source_url).json()

    @DBOS.workflow()
    def process(self) -> dict:
        data = self.fetch_data()
        return {"transformed": data}


# Instantiate before DBOS.launch()
processor = DataProcessor("https://api.example.com/data")


def introspect(workflow_id: str) -> None:
    pending = DBOS.list_workflows(status="PENDING", limit=10)
    completed = DBOS.list_workflows(status="SUCCESS", sort_desc=True)
    steps = DBOS.list_workflow_steps(workflow_id)
    DBOS.cancel_workflow(workflow_id)
    DBOS.resume_workflow(workflow_id)
    DBOS.fork_workflow(workflow_id, start_step=3)
    print(pending, completed, steps)


@DBOS.workflow()
def my_workflow(input_data: str) -> str:
    return "expected_output"


@pytest.fixture()
def dbos_test():
    DBOS.destroy()
    config: DBOSConfig = {"name": "test-app"}
    DBOS(config=config)
    DBOS.reset_system_database()
    DBOS.launch()
    yield
    DBOS.destroy()


def test_workflow(dbos_test):
    result = my_workflow("test_input")
    assert result == "expected_output"


full_config: DBOSConfig = {
    "name": "my-app",
    "system_database_url": "postgresql://...",
    "application_database_url": "postgresql://...",
    "log_level": "INFO",
    "application_version": "1.0.0",
}

if __name__ == "__main__":
    DBOS.launch()
    result = processor.process()
