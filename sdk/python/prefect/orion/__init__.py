"""``prefect.orion`` compatibility package: only ``schemas.schedules`` exists."""
