"""`dbos dashboard`: a local web page over the system database (Starlette and uvicorn, from
the `dashboard` extra; templates and JavaScript ship in this package, nothing is fetched)."""
