"""The operator API's client, used by the CLI: every failure becomes an ``ApiError``."""

from __future__ import annotations

from typing import Any

import httpx

from hotline.errors import ApiError, PairingError
from hotline.node import NodeConfig


class ApiClient:
    def __init__(self, config: NodeConfig, timeout: float = 30.0) -> None:
        self.config = config
        self._http = httpx.Client(
            base_url=config.api_url,
            headers={"Authorization": f"Bearer {config.api_token()}"},
            timeout=timeout,
        )

    def running(self) -> bool:
        try:
            return self._http.get("/v1/health", timeout=2.0).status_code in (200, 503)  # 503: running, alarmed
        except httpx.HTTPError:
            return False

    def get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, json=body)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise ApiError(
                f"the {self.config.party} node is not running at {self.config.api_url} "
                f"(start it with: hotline run --dir {self.config.directory})"
            ) from None
        except httpx.HTTPError as exc:
            raise ApiError(f"the node's API did not answer: {exc}") from None
        try:
            payload = response.json()
        except ValueError:
            raise ApiError(
                f"the node's API answered {response.status_code} without JSON", response.status_code
            ) from None
        if response.status_code >= 400:
            message = str((payload.get("error") if isinstance(payload, dict) else None) or payload)
            if isinstance(payload, dict) and payload.get("kind") == "pairing":
                raise PairingError(message)  # the same exit code whether or not the node runs
            raise ApiError(message, response.status_code)
        return payload
