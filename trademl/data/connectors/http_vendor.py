"""What every HTTP vendor connector shares: base URL resolution, credentials read at call time, the client.

Environment contract (read on every call, never cached, never logged):
- base URL: the constructor's `base_url`, else ``TRADEML_<VENDOR>_BASE_URL``, else the vendor's extra
  variables (e.g. ``ALPACA_API_BASE_URL``), else ``base_url`` in configs/endpoints.yml;
- credentials: each connector lists the accepted variable names per secret (first set name wins);
  a missing secret raises `VendorAuthError` naming every accepted variable before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import requests

from trademl.data.connectors.base import Connector, VendorAuthError
from trademl.data.endpoints import endpoint_registry
from trademl.data.http import VendorHttpClient, VendorLimits, budget_vendor, register_secret


class HttpVendorConnector(Connector):
    """A Connector talking to a vendor's HTTP API through the shared `VendorHttpClient`."""

    # Accepted environment variable names for each secret the vendor needs, in preference order.
    key_env: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # Extra base-URL variables honoured after TRADEML_<VENDOR>_BASE_URL.
    base_url_env: ClassVar[tuple[str, ...]] = ()
    reset_header: ClassVar[str | None] = None
    remaining_header: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        client: VendorHttpClient | None = None,
        base_url: str | None = None,
        limits: VendorLimits | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """`client` replaces the shared one; `limits`/`clock`/`sleep` build a private gate (tests, simulations)."""
        self._client = client
        self._base_url = base_url.rstrip("/") if base_url else None
        self._client_options: dict[str, Any] = {
            k: v for k, v in (("limits", limits), ("clock", clock), ("sleep", sleep)) if v is not None
        }

    @classmethod
    def from_env(cls) -> "HttpVendorConnector":
        """The connector configured purely from the environment and configs/endpoints.yml."""
        return cls()

    # -- configuration ---------------------------------------------------------------------------
    @property
    def client(self) -> VendorHttpClient:
        """The shared-policy client (process-wide budget of this vendor unless one was injected)."""
        if self._client is None:
            self._client = VendorHttpClient(
                budget_vendor(self.source_name),
                reset_header=self.reset_header,
                remaining_header=self.remaining_header,
                throttle_detector=self.throttle_detector(),
                **self._client_options,
            )
        return self._client

    def throttle_detector(self) -> Callable[[requests.Response], Any] | None:
        """A detector for vendors that signal throttling inside a 200 response (none by default)."""
        return None

    def base_url_variables(self) -> tuple[str, ...]:
        return (f"TRADEML_{self.source_name.upper()}_BASE_URL", *self.base_url_env)

    @property
    def base_url(self) -> str:
        """The API root: constructor argument > TRADEML_<VENDOR>_BASE_URL > vendor variables > endpoints.yml."""
        if self._base_url:
            return self._base_url
        for name in self.base_url_variables():
            value = os.environ.get(name, "").strip()
            if value:
                return value.rstrip("/")
        registry = endpoint_registry()
        owner = registry.vendors[registry.budget_vendor(self.source_name)]
        url = registry.vendors[self.source_name].base_url or owner.base_url
        if not url:
            raise ValueError(f"no base_url for vendor {self.source_name!r} in configs/endpoints.yml")
        return str(url).rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    @property
    def auth_env(self) -> tuple[str, ...]:
        """Every accepted credential variable name (for error messages)."""
        return tuple(name for group in self.key_env for name in group)

    def secret(self, index: int = 0) -> str:
        """The value of secret number `index` from the environment, read now; VendorAuthError when unset."""
        names: Sequence[str] = self.key_env[index]
        for name in names:
            value = os.environ.get(name, "").strip()
            if value:
                register_secret(value)
                return value
        raise VendorAuthError(
            self.source_name,
            f"missing credential: set {' or '.join(names)} in the environment",
        )

    def require_credentials(self) -> None:
        """Fail now, not mid-run, when a credential is unset: VendorAuthError naming the variables (no values)."""
        for index in range(len(self.key_env)):
            self.secret(index)
