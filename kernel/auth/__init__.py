"""Auth primitives of the kernel: passwords, tokens, principals, permissions, signed identities.

The primitives are a pure library (no network, no database); ``SecuritySubsystem`` wires them
into the kernel (bus identity, HTTP authentication and guards). The gateway uses it to log people
in and to sign the identity that follows each request onto the bus; modules use it to check
permissions and to verify that identity. See ``docs/auth.md``.
"""

from typing import TYPE_CHECKING

from kernel._lazy import lazy_exports

if TYPE_CHECKING:
    from kernel.auth._apikeys import (
        API_KEY_PREFIX,
        GeneratedApiKey,
        constant_time_equals,
        generate_api_key,
        hash_api_key,
        parse_api_key,
        verify_api_key,
    )
    from kernel.auth._context import current_principal, get_principal, use_principal
    from kernel.auth._credentials import CREDENTIAL_COOKIES, CREDENTIAL_HEADERS, without_cookies
    from kernel.auth._errors import AuthError, InvalidToken, PermissionDenied, WeakPassword
    from kernel.auth._guards import (
        PUBLIC,
        AppCheck,
        AppGuards,
        CurrentPrincipal,
        add_app_guard,
        deny_anonymous,
        innermost_guards,
        is_public,
        principal_in,
        principal_of,
        public,
        require_permission,
        requires,
    )
    from kernel.auth._hooks import SecurityHookSpecs
    from kernel.auth._identity import (
        IDENTITY_AUDIENCE,
        IDENTITY_HEADER,
        IDENTITY_ISSUER,
        IDENTITY_TTL,
        header_reattester,
        reattest,
        sign_identity,
        verify_identity,
    )
    from kernel.auth._keys import (
        Signing,
        load_identity_private_key,
        load_identity_public_key,
        load_or_create_dev_secret,
        load_or_create_identity_keys,
        resolve_signing,
    )
    from kernel.auth._pages import STRICT_POLICY, add_page_headers, page_headers
    from kernel.auth._passwords import (
        MIN_PASSWORD_LENGTH,
        check_password_policy,
        hash_password,
        needs_rehash,
        verify_password,
    )
    from kernel.auth._pem import load_private_key, load_public_key
    from kernel.auth._permissions import (
        ANONYMOUS,
        DEFAULT_ROLES,
        Principal,
        PrincipalKind,
        RoleMap,
        can_assign_roles,
        has_permission,
        is_valid_permission,
        permission_matches,
        permissions_for,
        system_principal,
    )
    from kernel.auth._propagator import (
        FORWARDED,
        IdentityPropagator,
        IdentitySigner,
        IdentityVerifier,
        received_identity,
    )
    from kernel.auth._ratelimit import LoginLimiter
    from kernel.auth._refresh import (
        RefreshRecord,
        RefreshVerdict,
        hash_refresh_token,
        issue_refresh_token,
        new_refresh_token,
        refresh_verdict,
    )
    from kernel.auth._settings import AuthSettings
    from kernel.auth._strength import check_secret_strength, guess_bits
    from kernel.auth._subsystem import (
        ClaimsOnly,
        Credentials,
        SecuritySubsystem,
        active_security,
        signing_from_settings,
    )
    from kernel.auth._tokens import (
        ALGORITHMS,
        TokenConfig,
        decode_access_token,
        issue_access_token,
    )

__getattr__ = lazy_exports(__name__)
__all__ = [
    "ALGORITHMS",
    "ANONYMOUS",
    "API_KEY_PREFIX",
    "CREDENTIAL_COOKIES",
    "CREDENTIAL_HEADERS",
    "DEFAULT_ROLES",
    "FORWARDED",
    "IDENTITY_AUDIENCE",
    "IDENTITY_HEADER",
    "IDENTITY_ISSUER",
    "IDENTITY_TTL",
    "MIN_PASSWORD_LENGTH",
    "PUBLIC",
    "STRICT_POLICY",
    "AppCheck",
    "AppGuards",
    "AuthError",
    "AuthSettings",
    "ClaimsOnly",
    "Credentials",
    "CurrentPrincipal",
    "GeneratedApiKey",
    "IdentityPropagator",
    "IdentitySigner",
    "IdentityVerifier",
    "InvalidToken",
    "LoginLimiter",
    "PermissionDenied",
    "Principal",
    "PrincipalKind",
    "RefreshRecord",
    "RefreshVerdict",
    "RoleMap",
    "SecurityHookSpecs",
    "SecuritySubsystem",
    "Signing",
    "TokenConfig",
    "WeakPassword",
    "active_security",
    "add_app_guard",
    "add_page_headers",
    "can_assign_roles",
    "check_password_policy",
    "check_secret_strength",
    "constant_time_equals",
    "current_principal",
    "decode_access_token",
    "deny_anonymous",
    "generate_api_key",
    "get_principal",
    "guess_bits",
    "has_permission",
    "hash_api_key",
    "hash_password",
    "hash_refresh_token",
    "header_reattester",
    "innermost_guards",
    "is_public",
    "is_valid_permission",
    "issue_access_token",
    "issue_refresh_token",
    "load_identity_private_key",
    "load_identity_public_key",
    "load_or_create_dev_secret",
    "load_or_create_identity_keys",
    "load_private_key",
    "load_public_key",
    "needs_rehash",
    "new_refresh_token",
    "page_headers",
    "parse_api_key",
    "permission_matches",
    "permissions_for",
    "principal_in",
    "principal_of",
    "public",
    "reattest",
    "received_identity",
    "refresh_verdict",
    "require_permission",
    "requires",
    "resolve_signing",
    "sign_identity",
    "signing_from_settings",
    "system_principal",
    "use_principal",
    "verify_api_key",
    "verify_identity",
    "verify_password",
    "without_cookies",
]
