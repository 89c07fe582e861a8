"""``python -m shop ROLE WORKFLOW_ID``: run or recover the checkout workflow (crash tests).

``start`` launches and runs ``checkout`` under WORKFLOW_ID (its ``maybe_crash`` step kills the
process); ``recover`` writes the release file, launches (recovery resumes the workflow) and
prints the result. ``run`` runs every fixture workflow once and prints their results."""

import asyncio
import json
import os
import sys

from dbos import DBOS, SetWorkflowID

from . import aio, billing, orders


def main() -> None:
    role, workflow_id = sys.argv[1], sys.argv[2]
    config = {"name": "shop", "system_database_url": os.environ["SHOP_DATABASE_URL"]}
    if os.environ.get("SHOP_VERSION"):  # decorated and compiled code hash different things
        config["application_version"] = os.environ["SHOP_VERSION"]
    DBOS(config=config)
    if role == "recover":
        (orders.MARKS / "release").touch()
    DBOS.launch()
    if role == "start":
        with SetWorkflowID(workflow_id):
            orders.checkout(["tea", "cake"])
    elif role == "recover":
        result = DBOS.retrieve_workflow(workflow_id).get_result()
        print(json.dumps({"result": result, "version": DBOS.application_version}))
    else:
        (orders.MARKS / "release").touch()
        till = billing.Till("main", 1)
        results = {
            "checkout": orders.checkout(["cake"]),
            "batch": orders.batch(["tea", "tea"]),
            "pay": till.pay(10),
            "quadruple": asyncio.run(aio.quadruple(3)),
        }
        print(json.dumps(results))
    DBOS.destroy()


main()
