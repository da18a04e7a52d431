"""hotline: a direct, secure, always-on channel between the armed forces of two or more states.

The package is layered so that dependencies point one way:

- ``crypto``, ``envelope``, ``protocol``: pure code over bytes; no I/O, no clocks.
- ``storage``: the narrow ``Store`` interface and its SQLite implementation.
- ``node``: joins the pure core to storage and the network (asyncio, ssl).
- ``api`` and ``cli``: the operator's surfaces, built on ``node``'s public API.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
