"""``prefect.flows`` compatibility module (see :mod:`orion.flows`)."""

from orion.flows import Flow, flow

__all__ = ["Flow", "flow"]
