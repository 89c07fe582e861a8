"""The seed's Basic Application Structure, runnable as is.

Two steps and a workflow; the external API call is simulated so the example runs offline.
Run it twice: each run is a new workflow, and a run killed mid-way resumes on the next start.
"""

import os

from dbos import DBOS, DBOSConfig

config: DBOSConfig = {
    "name": "my-app",
    "system_database_url": os.environ.get("DBOS_SYSTEM_DATABASE_URL"),
}
DBOS(config=config)


@DBOS.step()
def call_external_api(data: str) -> dict:
    # Stands in for requests.post("https://api.example.com", json={"data": data}).json()
    return {"status": "ok", "echo": data}


@DBOS.step()
def process_result(result: dict) -> str:
    return result.get("status", "unknown")


@DBOS.workflow()
def my_workflow(input_data: str) -> str:
    api_result = call_external_api(input_data)
    status = process_result(api_result)
    return status


if __name__ == "__main__":
    DBOS.launch()
    result = my_workflow("hello")
    print(f"my_workflow returned {result!r}")
    steps = DBOS.list_workflow_steps(DBOS.list_workflows(sort_desc=True, limit=1)[0].workflow_id)
    print("recorded steps:", [s["function_name"] for s in steps])
    DBOS.destroy()
