"""What users run: the `claims` command and the Prefect flows that wire the stages together."""
