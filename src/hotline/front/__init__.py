"""The front door of the loopback HTTP port: what every connection and request passes before
the operator API or the console sees it, and the tally of what was turned away.

- ``connection``: the HTTP protocol (uvicorn's, bounded): connections at once, and the time a
  request's head may take to arrive;
- ``hosts``: the Host names the node answers to (DNS rebinding);
- ``headers``: the security headers every answer carries;
- ``refusals``: each refusal counted by cause (``/metrics``) and logged once per cause.

The API and the console both use it and know nothing of each other; ``hotline.server`` puts the
parts together. The request body's bounds are the API's gate (``hotline.api.gate``).
"""

from hotline.front.refusals import Refusals

__all__ = ["Refusals"]
