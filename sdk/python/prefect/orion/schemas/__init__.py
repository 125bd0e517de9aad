"""``prefect.orion.schemas`` compatibility package."""
