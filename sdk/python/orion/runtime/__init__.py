"""Entry points the Go side runs with ``python3 -m``.

* :mod:`orion.runtime.load` -- discover deployment specs and inspect flows.
* :mod:`orion.runtime.run` -- execute one flow run.
* :mod:`orion.runtime.scripts` -- shared script execution and flow lookup.
"""
