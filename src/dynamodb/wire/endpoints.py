"""Where a direct connection sends its requests, for which region, signed with what.

:class:`AwsSettings` resolves, once per connection and on first use:

- the **region**: the one given, else ``AWS_DEFAULT_REGION``, else botocore's
  configuration (profile, config file);
- the **endpoint**: ``endpoint_url`` as given, else an endpoint configured for
  the AWS SDKs (``AWS_ENDPOINT_URL_DYNAMODB``, ``AWS_ENDPOINT_URL``, the config
  file's ``endpoint_url``), else botocore's endpoint rules for the region (FIPS,
  dual-stack and account-based endpoints as botocore resolves them);
- the **credentials**: the ones given, else botocore's credential chain
  (environment, config and profiles, SSO, assume-role, web identity, container
  and instance metadata), refreshed by botocore when they expire.

Plain keys in the environment (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, with ``AWS_SESSION_TOKEN``, no profile chosen, no
expiry time) are read directly: they are what botocore's chain would find first,
and reading them spares a cold start the import of botocore's session. Everything
else asks botocore, imported then.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

from dynamodb.core.services import DYNAMODB, Service
from dynamodb.wire.sigv4 import Credentials

__all__ = ["AwsSettings"]

SETTINGS = (
    "endpoint_url",
    "region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "profile_name",
)
"""The keyword arguments of :class:`AwsSettings` (named as :class:`~dynamodb.Connection`'s)."""

_ACCESS_KEY = "AWS_ACCESS_KEY_ID"
_SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
_TOKENS = ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")  # botocore's order


class AwsSettings:
    """Region, endpoint and credentials of one connection, resolved lazily (thread-safe)."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        profile_name: str | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        self.profile_name = profile_name
        self._given: Credentials | None = None
        self._partial: str | None = None  # the key missing from keys given half
        if aws_access_key_id and aws_secret_access_key:
            self._given = Credentials(
                aws_access_key_id, aws_secret_access_key, aws_session_token or None
            )
        elif aws_access_key_id or aws_secret_access_key:
            self._partial = "aws_secret_access_key" if aws_access_key_id else "aws_access_key_id"
        self._lock = threading.Lock()
        self._finding = threading.Lock()  # one thread resolves the credential chain
        self._session: Any = None
        self._source: Any = None  # botocore's credentials object, when the chain found them
        self._static: Credentials | None = self._given
        self._resolved: dict[str, tuple[str, str]] = {}  # by service name

    # -- botocore, when needed -----------------------------------------------------------

    def session(self) -> Any:
        """The botocore session this connection's settings come from (made once)."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    import botocore.session

                    self._session = botocore.session.Session(profile=self.profile_name)
        return self._session

    # -- credentials -----------------------------------------------------------------------

    def credentials(self) -> Credentials:
        """The credentials to sign the next request with (refreshed when they expire)."""
        static = self._static
        if static is not None:
            return static
        source = self._source
        if source is None:
            with self._finding:
                found = self._static or self._source or self._find_credentials()
            if isinstance(found, Credentials):
                return found
            source = found
        frozen = source.get_frozen_credentials()
        return Credentials(
            frozen.access_key,
            frozen.secret_key,
            frozen.token or None,
            getattr(frozen, "account_id", None),
        )

    def ready_credentials(self) -> Credentials | None:
        """The credentials if they can be had at once; None when they must be found or
        refreshed first (which may call a provider: an async caller does that off its loop)."""
        static = self._static
        if static is not None:
            return static
        source = self._source
        if source is None or source.refresh_needed():
            return None
        return self.credentials()

    def _find_credentials(self) -> Any:
        if self._partial is not None:  # refused when used, as botocore's client does
            from botocore.exceptions import PartialCredentialsError

            raise PartialCredentialsError(provider="explicit", cred_var=self._partial)
        from_environment = self._environment_credentials()
        if from_environment is not None:
            self._static = from_environment
            return from_environment
        found = self.session().get_credentials()
        if found is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        if not hasattr(found, "refresh_needed"):  # plain keys: nothing to refresh
            frozen = found.get_frozen_credentials()
            self._static = Credentials(
                frozen.access_key,
                frozen.secret_key,
                frozen.token or None,
                getattr(frozen, "account_id", None),
            )
            return self._static
        self._source = found
        return found

    def _environment_credentials(self) -> Credentials | None:
        """Keys in the environment, when botocore's chain would take exactly them."""
        environ = os.environ
        if self.profile_name is not None or "AWS_CREDENTIAL_EXPIRATION" in environ:
            return None
        access_key = environ.get(_ACCESS_KEY, "")
        secret_key = environ.get(_SECRET_KEY, "")
        if not (access_key and secret_key):
            return None  # none (the chain goes on), or partial (botocore explains)
        token = next((environ[name] for name in _TOKENS if environ.get(name)), None)
        return Credentials(access_key, secret_key, token, environ.get("AWS_ACCOUNT_ID") or None)

    # -- region and endpoint ---------------------------------------------------------------

    def endpoint(self, service: Service = DYNAMODB) -> tuple[str, str]:
        """``(url, region)``: where ``service``'s requests go and the region they are signed
        for. With ``endpoint_url`` every service goes there (DynamoDB Local answers both)."""
        resolved = self._resolved.get(service.name)
        if resolved is None:
            region = self._region()
            url = (
                self.endpoint_url
                or self._configured_endpoint(service)
                or self._rules_endpoint(service, region)
            )
            if urlsplit(url).path == "/":
                url = url[:-1]  # "http://host:8000/" is "http://host:8000"
            resolved = self._resolved[service.name] = (url, region)
        return resolved

    def _region(self) -> str:
        region = self.region_name or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            region = self.session().get_config_variable("region")
        if not region:
            from botocore.exceptions import NoRegionError

            raise NoRegionError()
        return str(region)

    def _configured_endpoint(self, service: Service) -> str | None:
        """An endpoint configured for the SDKs (environment, config file), as botocore finds it."""
        session = self.session()
        if session.get_config_variable("ignore_configured_endpoint_urls"):
            return None
        try:
            from botocore.configprovider import ConfiguredEndpointProvider
        except ImportError:  # pragma: no cover - botocore without configured endpoints
            return None
        provider = ConfiguredEndpointProvider(
            full_config=session.full_config,
            scoped_config=session.get_scoped_config(),
            client_name=service.name,
        )
        found = provider.provide()
        return str(found) if found else None

    def _rules_endpoint(self, service: Service, region: str) -> str:
        """botocore's endpoint rules for ``service`` in ``region`` (FIPS, dual-stack, account)."""
        from botocore.endpoint_provider import EndpointProvider

        session = self.session()
        loader = session.get_component("data_loader")
        rules = loader.load_service_model(service.name, "endpoint-rule-set-1")
        provider = EndpointProvider(rules, loader.load_data("partitions"))
        parameters: dict[str, Any] = {
            "Region": region,
            "UseFIPS": bool(_flag(session.get_config_variable("use_fips_endpoint"))),
            "UseDualStack": bool(_flag(session.get_config_variable("use_dualstack_endpoint"))),
        }
        mode = session.get_config_variable("account_id_endpoint_mode")
        if mode and "AccountIdEndpointMode" in rules.get("parameters", {}):
            parameters["AccountIdEndpointMode"] = mode
            if mode != "disabled":
                account = self.credentials().account_id
                if account:
                    parameters["AccountId"] = account
        return str(provider.resolve_endpoint(**parameters).url)


def _flag(value: Any) -> bool:
    """A config value as botocore reads booleans (``"true"``, ``True``...)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)
