"""Curated mutants: small deliberate bugs in security- and durability-critical lines, each of which
named tests must catch.

A green suite proves the code does what the tests check; this proves the tests check what
matters. For every mutant in ``MUTANTS`` the script copies the repository (the files git knows,
tracked or new, none it ignores) to a scratch folder, checks that Python run there imports
``kernel`` from the copy (not from the editable install), replaces the ``original`` snippet with
the ``mutated`` one, runs the mutant's tests there and expects them to FAIL. It prints one row per
mutant (caught / SURVIVED / ERROR, seconds) and exits non-zero when any mutant survived, errored,
or its snippet is no longer in the code exactly once.

Usage::

    python scripts/mutants.py               # all mutants, two at a time
    python scripts/mutants.py --list        # names, files and tests
    python scripts/mutants.py --only storage-containment --only limiter-reset
    python scripts/mutants.py --baseline    # the same tests on the unmutated copy: must pass

Adding a mutant: append a ``Mutant`` to ``MUTANTS`` with

* ``name``: short, unique, kebab-case;
* ``path``: the file, relative to the repository root;
* ``original``: a snippet copied exactly from that file (whitespace included) that occurs in it
  once; take a line or two, enough to be unique;
* ``mutated``: the same snippet with the bug in (a flipped condition, a dropped check, an off by
  one); it must stay valid Python, or the tests fail for the wrong reason;
* ``tests``: pytest arguments (node ids, or ``-k`` expressions) naming the fewest and fastest
  tests that catch it. Check by hand: ``--only NAME`` must say caught, and ``--baseline --only
  NAME`` must pass. Every second counts in CI: 163 mutants took 17-18 minutes on two cores
  (December 2026), about two thirds of the time pytest itself takes there.

When the code moves, the run stops with "snippet not found": update ``original`` and ``mutated``
to the new code, never drop the mutant without a replacement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PER_MUTANT_TIMEOUT = 300  # seconds; a hung run is reported as an error, not as caught


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    original: str
    mutated: str
    tests: tuple[str, ...]


MUTANTS: list[Mutant] = [
    Mutant(
        "identity-ttl-ignored",
        "kernel/auth/_propagator.py",
        "token = sign_identity(principal, self._key, ttl=self._ttl, now=at)",
        "token = sign_identity(principal, self._key, now=at)",
        (
            "tests/security/test_identities.py"
            "::test_an_overheard_identity_acts_only_within_its_lifetime",
        ),
    ),
    Mutant(
        "module-creates-its-consumer",
        "kernel/deploy/_permissions.py",
        '        f"{api}.INFO.{EVENTS_STREAM}.{consumer}",\n',
        '        f"{api}.INFO.{EVENTS_STREAM}.{consumer}",\n'
        '        f"{api}.DURABLE.CREATE.{EVENTS_STREAM}.{consumer}",\n',
        (
            "tests/security/test_dead_letters.py"
            "::test_a_module_cannot_widen_what_its_consumer_reads",
        ),
    ),
    Mutant(
        "dead-letter-id-per-event",
        "kernel/bus/_durable.py",
        'HEADER_MSG_ID: f"dlq-{self.name}-{stream_seq}",',
        'HEADER_MSG_ID: f"dlq-{self.name}-{event.id}",',
        (
            "tests/distribution/test_durable.py"
            "::test_a_replayed_letter_that_fails_again_comes_back_with_both_errors",
        ),
    ),
    Mutant(
        "durable-concurrency-ignored",
        "kernel/bus/_durable.py",
        "            concurrency=self.bound.concurrency,\n        )\n        self._loop.start()",
        "            concurrency=1,\n        )\n        self._loop.start()",
        ("tests/bus/test_durable_concurrency.py",),
    ),
    Mutant(
        "console-replay-not-re-signed",
        "kernel/console/_views.py",
        "letter = await replay_dead_letter(bus.nats.jetstream(), letter_id, reattest=reattest)",
        "letter = await replay_dead_letter(bus.nats.jetstream(), letter_id)",
        ("tests/console/test_dead_letters_view.py",),
    ),
    Mutant(
        "console-services-unguarded",
        "kernel/console/_services.py",
        '@get("/services/table", include_in_schema=False, opt=READ)',
        '@get("/services/table", include_in_schema=False)',
        ("tests/console/test_services_view.py::test_the_view_needs_system_read",),
    ),
    Mutant(
        "console-catalog-unguarded",
        "kernel/console/_contracts.py",
        '@get("/catalog/subject", include_in_schema=False, opt=READ)',
        '@get("/catalog/subject", include_in_schema=False)',
        ("tests/console/test_catalog_view.py::test_the_catalog_needs_system_read",),
    ),
    Mutant(
        "console-catalog-svg-unescaped",
        "kernel/console/_graph.py",
        "<title>{escape(tip)}</title>",
        "<title>{tip}</title>",
        (
            "tests/console/test_catalog_view.py"
            "::test_the_picture_names_subjects_producers_and_consumers",
        ),
    ),
    Mutant(
        "heartbeat-callees-unbounded",
        "kernel/nodes/_info.py",
        "calls: list[CallStats] = Field(default_factory=list, max_length=MAX_CALLEES)",
        "calls: list[CallStats] = Field(default_factory=list)",
        ("tests/security/test_nodes.py::test_a_heartbeat_names_at_most_64_called_services",),
    ),
    Mutant(
        "dead-letter-any-subject",
        "kernel/bus/_dlq.py",
        "if doubt := await filters.doubt(consumer, subject):",
        "if doubt := '':",
        (
            "tests/bus/test_dead_letter_trust.py"
            "::test_a_letter_pointing_at_someone_elses_event_or_payload_is_not_believed",
        ),
    ),
    Mutant(
        "dead-letter-any-payload",
        "kernel/bus/_dlq.py",
        'if (original.data or b"") != data:',
        "if False:",
        (
            "tests/bus/test_dead_letter_trust.py"
            "::test_a_letter_pointing_at_someone_elses_event_or_payload_is_not_believed",
        ),
    ),
    Mutant(
        "dead-letter-untrusted-keeps-identity",
        "kernel/bus/_dlq.py",
        "headers = {key: letter.headers[key] for key in _UNTRUSTED_KEEPS if key in letter.headers}",
        "headers = dict(letter.headers)",
        (
            "tests/bus/test_dead_letter_trust.py"
            "::test_a_forged_letter_is_untrusted_and_replays_anonymous",
        ),
    ),
    Mutant(
        "dead-letter-identity-judged-now",
        "kernel/bus/_dlq.py",
        "headers = reattest(headers, letter.stored_at)",
        "headers = reattest(headers, None)",
        (
            "tests/bus/test_dead_letter_trust.py"
            "::test_a_genuine_letter_replays_as_its_caller_judged_at_the_stored_time",
        ),
    ),
    Mutant(
        "dead-letter-any-digest",
        "kernel/bus/_dlq.py",
        'if not hmac.compare_digest(payload_digest(original.data or b""), digest):',
        "if False:",
        (
            "tests/bus/test_dead_letter_trust.py"
            "::test_a_letter_without_its_payload_is_believed_only_by_the_payloads_digest",
        ),
    ),
    Mutant(  # the letter goes with the payload however large: the server closes the connection
        "dead-letter-unmeasured",
        "kernel/bus/_durable.py",
        "if limit is None or len(data) + header_size(headers) <= limit:",
        "if True:",
        (
            "tests/distribution/test_payload_limits.py"
            "::test_a_near_limit_invalid_event_is_dead_lettered_and_the_module_stays_connected",
        ),
    ),
    Mutant(
        "service-result-unmeasured",
        "kernel/registry/_serve.py",
        "            check_size(nats, request.subject, body, None)",
        "            pass",
        (
            "tests/distribution/test_payload_limits.py"
            "::test_a_service_result_too_large_is_an_error_the_caller_reads",
        ),
    ),
    Mutant(  # an answer's headers beyond a message: the server would close the module's link
        "forwarded-answer-head-unmeasured",
        "kernel/forwarding/_server_exchange.py",
        "            if not _fits(self.nats, head):",
        "            if False:",
        (
            "tests/distribution/test_payload_limits.py"
            "::test_forwarded_headers_too_large_for_one_message_are_413_and_the_gateway_stays_ready",
        ),
    ),
    Mutant(
        "forwarded-answer-whole-unmeasured",
        "kernel/forwarding/_server_exchange.py",
        "            if _fits(self.nats, answer):",
        "            if True:",
        (
            "tests/distribution/test_payload_limits.py"
            "::test_an_answer_whose_headers_do_not_fit_with_its_body_comes_in_pieces",
        ),
    ),
    Mutant(
        "forwarded-request-head-unmeasured",
        "kernel/forwarding/_client.py",
        "            check_size(nats, self.subject, payload, None)",
        "            pass",
        (
            "tests/distribution/test_payload_limits.py"
            "::test_forwarded_headers_too_large_for_one_message_are_413_and_the_gateway_stays_ready",
        ),
    ),
    Mutant(  # a task whose body fits but not with its headers: the server closes the link
        "task-unmeasured",
        "kernel/transport/_acked.py",
        "        check_size(self._connection, subject, payload, headers)",
        "        pass",
        ("tests/tasks/test_limits.py::test_a_task_too_large_to_send_or_to_record_is_refused_once",),
    ),
    Mutant(  # a result too large to record: retried, and refused, again and again
        "task-result-unmeasured",
        "kernel/tasks/_worker.py",
        "            except PayloadTooLarge as too_large:",
        "            except ZeroDivisionError as too_large:",
        ("tests/tasks/test_limits.py::test_a_task_too_large_to_send_or_to_record_is_refused_once",),
    ),
    # -- stopping within one bound --------------------------------------------------------
    Mutant(  # every part waits the whole bound in turn: 9.5 s against 8 in the issue
        "shutdown-bound-per-part",
        "kernel/runtime/_stopping.py",
        "return max(0.0, self.bound - self.reserve - self.elapsed())",
        "return self.bound",
        (
            "tests/distribution/test_shutdown.py"
            "::test_a_module_process_stops_within_its_bound_and_names_what_it_cut_off",
        ),
    ),
    Mutant(  # with no server to drain to, stopping raised: exit 1 and a traceback
        "shutdown-drain-error-fatal",
        "kernel/bus/_bus.py",
        "    except Exception as error:  # e.g. reconnecting: there is no server to drain to",
        "    except ZeroDivisionError as error:",
        (
            "tests/distribution/test_shutdown.py"
            "::test_processes_stop_cleanly_within_their_bound_when_nats_is_gone",
        ),
    ),
    # -- who may call ---------------------------------------------------------------------
    Mutant(
        "guard-deny-anonymous",
        "kernel/auth/_guards.py",
        "if not is_public(handler) and not principal_in(scope).is_authenticated:",
        "if is_public(handler) and not principal_in(scope).is_authenticated:",
        (
            "tests/auth/test_http_guards.py"
            "::test_every_route_that_is_not_public_refuses_anonymous_callers",
        ),
    ),
    Mutant(
        "guard-requires",
        "kernel/auth/_guards.py",
        "missing = [p for p in permissions if not has_permission(principal, p)]",
        "missing = [p for p in permissions[1:] if not has_permission(principal, p)]",
        ("tests/auth/test_http_guards.py::test_a_guarded_route_wants_the_permission",),
    ),
    Mutant(
        "guard-require-permission",
        "kernel/auth/_guards.py",
        "    if not has_permission(acting, permission):",
        "    if not acting.roles and not has_permission(acting, permission):",
        ("tests/auth/test_http_guards.py::test_a_guarded_route_wants_the_permission",),
    ),
    Mutant(
        "password-verification",
        "kernel/auth/_passwords.py",
        "    except (VerificationError, InvalidHashError):\n        return False",
        "    except (VerificationError, InvalidHashError):\n        return True",
        ("tests/auth/test_passwords.py::test_wrong_password_is_false_not_an_error",),
    ),
    Mutant(
        "limiter-reset",
        "modules/auth/_session.py",
        "    security.limiter.reset(data.email, address)\n",
        "",
        ("modules/auth/tests/test_sessions.py::test_a_successful_login_forgives_earlier_mistakes",),
    ),
    Mutant(
        "token-algorithm-pinning",
        "kernel/auth/_tokens.py",
        "algorithms=[config.algorithm],",
        "algorithms=list(ALGORITHMS),",
        ("tests/auth/test_tokens.py::test_algorithm_confusion_hs256_with_the_public_key",),
    ),
    Mutant(
        "csrf-double-submit",
        "kernel/auth/_cookies.py",
        "if not expected or not sent or not constant_time_equals(sent, expected):",
        "if expected and sent and not constant_time_equals(sent, expected):",
        ("tests/console/test_session.py::test_state_changes_need_the_csrf_header",),
    ),
    # -- accounts, sessions, throttling ---------------------------------------------------
    Mutant(
        "api-key-acts-as-the-key",
        "modules/auth/_accounts.py",
        "            id=str(owner.id),",
        "            id=str(key.id),",
        (
            "modules/auth/tests/test_accounts.py"
            "::test_an_admins_own_key_cannot_change_the_admins_account",
        ),
    ),
    Mutant(
        "keys-survive-reset-and-disable",
        "modules/auth/_accounts.py",
        "    )\n    await revoke_keys(user)\n",
        "    )\n",
        (
            "modules/auth/tests/test_accounts.py::test_a_password_reset_revokes_the_users_keys",
            "modules/auth/tests/test_accounts.py"
            "::test_disabling_revokes_keys_and_enabling_brings_none_back",
        ),
    ),
    Mutant(
        "keys-survive-role-change",
        "modules/auth/_accounts.py",
        "    if set(chosen) != set(user.roles):\n        await revoke_keys(user)",
        "    if not chosen:\n        await revoke_keys(user)",
        (
            "modules/auth/tests/test_accounts.py"
            "::test_a_role_change_revokes_keys_and_a_no_change_does_not",
        ),
    ),
    Mutant(
        "sessions-survive-password-reset",
        "modules/auth/_accounts.py",
        "    user.password_hash = hash_password(password)\n    await end_sessions(user)",
        "    user.password_hash = hash_password(password)\n    await user.save()",
        (
            "modules/auth/tests/test_cli.py::test_the_cli_manages_accounts_with_the_apis_effects",
            "modules/auth/tests/test_admin_and_keys.py::test_admin_manages_users",
        ),
    ),
    Mutant(
        "init-env-readable-by-others",
        "kernel/deploy/_compose_env.py",
        "os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)",
        "os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)",
        ("tests/deploy/test_init.py::test_init_then_compose_config_passes_with_no_edits",),
    ),
    Mutant(
        "init-env-overwritten",
        "kernel/deploy/_compose_env.py",
        "os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)",
        "os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)",
        ("tests/deploy/test_init.py::test_an_env_file_appearing_meanwhile_is_not_overwritten",),
    ),
    Mutant(
        "ended-session-still-accepted",
        "kernel/auth/_subsystem.py",
        "if isinstance(session, str) and self.sessions.is_revoked(session):",
        "if isinstance(session, str) and not self.sessions.is_revoked(session):",
        (
            "modules/auth/tests/test_sessions.py"
            "::test_logout_ends_the_sessions_access_token_at_once",
        ),
    ),
    Mutant(  # a remembered access token would outlive its own expiry
        "verified-token-cache-outlives-token",
        "kernel/auth/_verified.py",
        "problem = time_problem(found, timestamp(now), config.leeway)",
        "problem = None",
        ("tests/auth/test_verified_tokens.py::test_a_remembered_token_is_refused_once_it_expires",),
    ),
    Mutant(  # tokens of a replaced key would still pass
        "verified-token-cache-outlives-key",
        "kernel/auth/_verified.py",
        "if config is not self._config:",
        "if self._config is None:",
        (
            "tests/auth/test_verified_tokens.py"
            "::test_another_key_forgets_what_the_old_one_vouched_for",
        ),
    ),
    Mutant(
        "access-log-skips-other-handlers",
        "kernel/logs.py",
        "        current = current.parent\n",
        "        break\n",
        (
            "tests/gateway/test_access_log.py"
            "::test_another_handler_gets_the_record_with_the_callers_place",
        ),
    ),
    Mutant(
        "access-log-ignores-handler-filters",
        "kernel/logs.py",
        "if levelno < self.level or self.filters != [self.ids] or formatter is None:",
        "if levelno < self.level or formatter is None:",
        ("tests/gateway/test_access_log.py::test_a_filter_or_a_level_still_stops_the_line",),
    ),
    Mutant(
        "ended-session-not-shared",
        "kernel/revocations/_subsystem.py",
        "        security.sessions.share = self._put",
        "        security.sessions.share = None",
        ("tests/revocations/test_replicas.py",),
    ),
    Mutant(
        "throttle-per-account-locks-the-owner-out",
        "kernel/auth/_ratelimit.py",
        "return f\"{self._account(account)}\\x00{address or 'unknown'}\"",
        "return self._account(account)",
        (
            "modules/auth/tests/test_sessions.py"
            "::test_failing_on_purpose_does_not_lock_the_owner_out",
        ),
    ),
    Mutant(
        "forwarded-for-from-anyone",
        "kernel/auth/_addresses.py",
        'if not proxies or not _trusted(_address(peer or ""), proxies):',
        "if not proxies:",
        ("tests/auth/test_addresses.py::test_a_client_cannot_pose_as_a_proxy",),
    ),
    Mutant(
        "gateway-server-believes-forwarded-for",
        "kernel/assembly/_gateway.py",
        "            # peer; the security subsystem reads it, from WEBOS_TRUSTED_PROXIES only.\n"
        "            proxy_headers=False,",
        "            # peer; the security subsystem reads it, from WEBOS_TRUSTED_PROXIES only.\n"
        "            proxy_headers=True,",
        ("tests/cli/test_run.py::test_a_local_client_cannot_pick_its_address_with_forwarded_for",),
    ),
    Mutant(
        "password-change-unthrottled",
        "modules/auth/_session.py",
        "    await throttle(security, user.email, address)\n",
        "",
        ("modules/auth/tests/test_sessions.py::test_wrong_current_passwords_are_throttled",),
    ),
    Mutant(
        "guessable-password-accepted",
        "kernel/auth/_strength.py",
        '    if estimate["score"] >= MIN_PASSWORD_SCORE:',
        '    if estimate["score"] >= 1:',
        ("tests/auth/test_passwords.py", "-k", "easy"),
    ),
    Mutant(
        "guessable-token-secret-accepted",
        "kernel/auth/_keys.py",
        '    if prod:\n        check_secret_strength(secret_key, "WEBOS_SECRET_KEY")',
        '    if not prod:\n        check_secret_strength(secret_key, "WEBOS_SECRET_KEY")',
        ("tests/auth/test_keys.py", "-k", "guessable"),
    ),
    Mutant(
        "guessable-presign-secret-accepted",
        "kernel/storage/_subsystem.py",
        "        if core.env is Environment.PROD:\n            check_secret_strength(",
        "        if core.env is not Environment.PROD:\n            check_secret_strength(",
        ("tests/storage/test_presign_secret.py::test_prod_refuses_a_guessable_presign_secret",),
    ),
    Mutant(
        "module-process-mints-tokens",
        "kernel/auth/_subsystem.py",
        "mints_tokens=host.role is Role.GATEWAY",
        "mints_tokens=True",
        ("tests/auth/test_minting.py::test_a_module_process_holds_no_token_key",),
    ),
    Mutant(
        "hmac-secret-outside-the-gateway",
        "kernel/auth/_keys.py",
        "        _refuse_minting_material(jwt_algorithm, secret_key, jwt_private_key_file)\n",
        "",
        ("tests/auth/test_keys.py", "-k", "refuses_what_would_let_it_mint"),
    ),
    Mutant(
        "audit-log-for-everyone",
        "modules/audit/router.py",
        '@get("/events", guards=[requires("audit.read")])',
        '@get("/events", guards=[])',
        ("modules/audit/tests/test_audit.py::test_the_log_needs_audit_read",),
    ),
    Mutant(
        "contacts-writable-by-anyone",
        "modules/contacts/router.py",
        'WRITE = [requires("contacts.write")]',
        "WRITE = []",
        (
            "modules/contacts/tests/test_contacts.py"
            "::test_writing_needs_contacts_write_and_reading_is_public",
        ),
    ),
    Mutant(
        "pages-may-be-framed",
        "kernel/auth/_pages.py",
        '        (b"x-frame-options", b"DENY"),\n',
        "",
        ("tests/gateway/test_docs.py",),
    ),
    # -- identity on the bus --------------------------------------------------------------
    Mutant(
        "identity-signature",
        "kernel/auth/_jws.py",
        '        key.verify(signed, f"{head}.{body}".encode("ascii"))\n',
        "        pass\n",
        (
            "tests/auth/test_identity.py::test_forged_with_another_key",
            "tests/auth/test_identity.py::test_tampered_claims",
        ),
    ),
    Mutant(  # the header's algorithm would not be pinned: "none", or HS256 keyed with the key
        "identity-algorithm-unchecked",
        "kernel/auth/_jws.py",
        'if header.get("alg") != ALGORITHM:',
        "if False:",
        ("tests/auth/test_jws.py", "tests/auth/test_identity.py"),
    ),
    Mutant(  # a token for another audience (an access token made into an identity) accepted
        "identity-audience-unchecked",
        "kernel/auth/_jws.py",
        'if not isinstance(claims.get("aud"), str) or claims["aud"] != audience:',
        'if not isinstance(claims.get("aud"), str | list):',
        ("tests/auth/test_jws.py",),
    ),
    Mutant(  # a required claim could be left out
        "identity-required-claim-unchecked",
        "kernel/auth/_jws.py",
        "        if claims.get(claim) is None:\n",
        "        if False:\n",
        ("tests/auth/test_jws.py", "tests/auth/test_identity.py"),
    ),
    Mutant(
        "identity-expiry",
        "kernel/auth/_clock.py",
        '    if claims["exp"] <= now - leeway:\n        return "expired"',
        '    if claims["exp"] <= now - leeway:\n        pass',
        ("tests/auth/test_identity.py::test_expired",),
    ),
    Mutant(
        "identity-cache-ignores-stored-time",
        "kernel/auth/_propagator.py",
        "if expires > now - self._leeway and issued <= now + self._leeway:",
        "if expires > 0:",
        (
            "tests/auth/test_identity_propagator.py"
            "::test_a_stored_delivery_is_judged_when_it_was_stored_cached_or_not",
        ),
    ),
    Mutant(  # the signer's cache would hand out an identity past its own expiry
        "identity-signer-cache-outlives-token",
        "kernel/auth/_propagator.py",
        "if found is None or found[1] <= now:",
        "if found is None:",
        (
            "tests/auth/test_identity_propagator.py"
            "::test_a_signed_identity_is_reused_but_never_handed_out_past_its_expiry",
        ),
    ),
    Mutant(
        "identity-vouches-for-another",
        "kernel/auth/_propagator.py",
        "if received is not None and received[1] == principal:",
        "if received is not None:",
        (
            "tests/auth/test_identity_propagator.py"
            "::test_a_module_process_forwards_what_it_received_and_nothing_else",
        ),
    ),
    Mutant(
        "forwarded-identity-from-client",
        "kernel/forwarding/_client.py",
        "self._owned, self._dropped = owned, self.never_forwarded | owned",
        "self._owned, self._dropped = owned, self.never_forwarded",
        (
            "tests/distribution/test_forwarded_identity.py"
            "::test_an_identity_header_from_a_client_counts_for_nothing[standalone]",
        ),
    ),
    # -- durable events -------------------------------------------------------------------
    Mutant(
        "credentials-forwarded",
        "kernel/forwarding/_client.py",
        "names = {*CREDENTIAL_HEADERS, *extra}",
        "names = set(extra)",
        ("tests/distribution/test_forwarded_credentials.py",),
    ),
    Mutant(
        "session-cookie-forwarded",
        "kernel/forwarding/_client.py",
        "            value = without_cookies(value)",
        "            value = value",
        ("tests/distribution/test_forwarded_credentials.py",),
    ),
    Mutant(
        "source-believed",
        "kernel/bus/_bus.py",
        "found = claimed if claimed in owners else None",
        "found = claimed",
        ("tests/bus/test_trusted_headers.py",),
    ),
    Mutant(
        "original-subject-believed",
        "kernel/bus/_event.py",
        "if subject.startswith(REPLAY_PREFIX):",
        "if True:",
        ("tests/bus/test_trusted_headers.py",),
    ),
    Mutant(
        "wildcard-handler-gets-internal-traffic",
        "kernel/bus/_bus.py",
        "if skip_internal and is_internal_subject(subject):",
        "if False:",
        ("tests/bus/test_trusted_headers.py",),
    ),
    # -- typed events ---------------------------------------------------------------------
    Mutant(
        "emit-skips-declared-model",
        "kernel/bus/_bus.py",
        "        if declared is not None:\n            payload = declared.checked(",
        "        if False:\n            payload = declared.checked(",
        (
            "tests/bus/test_typed_events.py"
            "::test_a_payload_that_breaks_the_model_is_refused_naming_the_field",
        ),
    ),
    Mutant(
        "declared-event-outside-emits",
        "kernel/bus/_convention.py",
        "if not any(covers(pattern, found.subject) for pattern in emits):",
        "if not any(covers(pattern, found.subject) for pattern in emits) and False:",
        (
            "tests/bus/test_typed_events.py"
            "::test_load_refuses_a_declared_event_its_manifest_does_not_emit",
        ),
    ),
    Mutant(
        "events-view-shows-internal",
        "kernel/bus/_watch.py",
        "            return asked_internal",
        "            return True",
        ("tests/console/test_events_view.py",),
    ),
    Mutant(
        "events-view-toggle-ignores-admin",
        "kernel/bus/_watch.py",
        "asked_internal = internal_allowed and (everything or is_internal_subject(wanted))",
        "asked_internal = everything or (internal_allowed and is_internal_subject(wanted))",
        ("tests/console/test_events_view.py",),
    ),
    Mutant(
        "events-view-shows-identities",
        "kernel/bus/_watch.py",
        "key: REDACTED if key.lower() in _SECRET_HEADERS else value",
        "key: value",
        ("tests/console/test_events_view.py",),
    ),
    Mutant(
        "scheduler-cannot-sign",
        "kernel/auth/_subsystem.py",
        "signer = host.role in (Role.GATEWAY, Role.SCHEDULER)",
        "signer = host.role is Role.GATEWAY",
        ("tests/tasks/test_schedules.py::test_two_scheduler_processes_fire_each_tick_once",),
    ),
    Mutant(
        "schedule-sent-unsigned",
        "kernel/tasks/_schedule.py",
        "        task.labels.update(self.context())",
        "        pass",
        ("tests/tasks/test_schedules.py::test_schedule_fires_as_the_scheduler",),
    ),
    Mutant(
        "durable-acks-a-failure",
        "kernel/bus/_durable.py",
        'if delivery.outcome == "handled":',
        'if delivery.outcome in ("handled", "failed"):',
        (
            "tests/distribution/test_durable.py"
            "::test_failing_handler_is_retried_then_dead_lettered_and_replayed_after_fix",
        ),
    ),
    Mutant(
        "dead-letter-threshold",
        "kernel/bus/_durable.py",
        "delivered >= self.max_deliver",
        "delivered >= self.max_deliver - 1",
        (
            "tests/distribution/test_durable.py"
            "::test_failing_handler_is_retried_then_dead_lettered_and_replayed_after_fix",
        ),
    ),
    Mutant(  # the other way: JetStream stops redelivering first, so the event is lost silently
        "dead-letter-never",
        "kernel/bus/_durable.py",
        "delivered >= self.max_deliver",
        "delivered > self.max_deliver",
        (
            "tests/distribution/test_durable.py"
            "::test_failing_handler_is_retried_then_dead_lettered_and_replayed_after_fix",
        ),
    ),
    # -- storage --------------------------------------------------------------------------
    Mutant(
        "storage-containment",
        "kernel/storage/_local.py",
        "if real != root and not real.startswith(root + os.sep):",
        "if real != root and not real.startswith(root):",
        ("tests/storage/test_storage_traversal.py::test_links_into_a_sibling_named_like_the_root",),
    ),
    Mutant(
        "s3-presign-method",
        "kernel/storage/_s3.py",
        "path, self._client.presigned_put_object, self.bucket, key, expires=expires",
        "path, self._client.presigned_get_object, self.bucket, key, expires=expires",
        ("tests/storage/test_storage_presign.py::test_s3_presigned_put_then_get",),
    ),
    Mutant(
        "local-presign-method",
        "modules/files/router.py",
        "    if granted != method:",
        '    if granted != method and granted != "GET":',
        ("modules/files/tests/test_files_presign.py::test_bad_tokens_are_403",),
    ),
    Mutant(
        "local-presign-signature",
        "kernel/storage/_presign.py",
        "if not dot or not hmac.compare_digest(_mac(key, body), signature):",
        "if not dot:",
        ("tests/storage/test_storage_presign.py", "-k", "tampered"),
    ),
    # -- NATS fences between processes (tests/security) -----------------------------------
    Mutant(
        "module-user-reads-any-inbox",
        "kernel/deploy/_fences.py",
        "        inbox_subjects(module_user(facts.name)),\n        NODE_SUBJECTS,\n",
        "        inbox_subjects(module_user(facts.name)),\n"
        '        "_INBOX.>",\n'
        "        NODE_SUBJECTS,\n",
        ("tests/security/test_inboxes.py",),
    ),
    Mutant(
        "instance-subjects-not-fenced",
        "kernel/deploy/_fences.py",
        'subjects += [f"{SERVICE_PREFIX}.{name}.*", f"{SERVICE_PREFIX}.{name}.*.*"]',
        'subjects += [f"{SERVICE_PREFIX}.{name}.*"]',
        (
            "tests/deploy/test_nats_config.py"
            "::test_a_wildcard_handler_keeps_its_own_kernel_subjects_and_no_others",
        ),
    ),
    Mutant(
        "wildcard-without-deny-list",
        "kernel/deploy/_fences.py",
        "    return unique([*own, *facts.handlers]), unique(deny)",
        "    return unique([*own, *facts.handlers]), ()",
        ("tests/security/test_wildcards.py",),
    ),
    Mutant(
        "wildcard-keeps-other-modules-subjects",
        "kernel/deploy/_fences.py",
        "if covers(root, subject) and not any(overlap(kept, subject) for kept in mine)",
        "if covers(root, subject) and not any(overlap(kept, subject) for kept in mine) and False",
        (
            "tests/security/test_wildcards.py"
            "::test_subscribing_to_another_modules_requests_is_refused",
        ),
    ),
    Mutant(
        "module-queues-any-task",
        "kernel/deploy/_fences.py",
        'return [f"{TASK_SUBJECTS}.{name}.>" for name in (module, *targets)] + list(TASK_READ)',
        'return [f"{TASK_SUBJECTS}.>"] + list(TASK_READ)',
        (
            "tests/security/test_tasks.py"
            "::test_a_module_queues_only_its_own_tasks_and_those_it_declares",
        ),
    ),
    Mutant(
        "module-writes-task-status",
        "kernel/deploy/_fences.py",
        'return [f"{TASK_SUBJECTS}.{name}.>" for name in (module, *targets)] + list(TASK_READ)',
        'return [f"{TASK_SUBJECTS}.{name}.>" for name in (module, *targets)] + list(TASK_READ)'
        " + [TASK_STATUS_WRITE]",
        ("tests/security/test_tasks.py::test_only_workers_and_the_gateway_write_task_status",),
    ),
    Mutant(
        "scheduler-writes-task-status",
        "kernel/deploy/_permissions.py",
        'deny = (TASK_STATUS_WRITE,) if role == "scheduler" else ()',
        "deny = ()",
        ("tests/security/test_tasks.py::test_only_workers_and_the_gateway_write_task_status",),
    ),
    Mutant(
        "module-process-queues-undeclared-tasks",
        "kernel/tasks/_subsystem.py",
        "if self._targets is not None and target not in self._targets:",
        "if self._targets is not None and target in ():",
        (
            "tests/security/test_tasks.py"
            "::test_a_module_process_refuses_to_queue_tasks_it_does_not_declare",
        ),
    ),
    Mutant(
        "task-status-to-any-user",
        "kernel/tasks/_mine.py",
        "        and status.principal == principal.id\n",
        "        and status.principal != principal.id\n",
        ("tests/gateway/test_own_tasks.py::test_a_user_reads_their_own_task_and_nobody_elses",),
    ),
    Mutant(
        "my-tasks-lists-everyones-records",
        "kernel/tasks/_store.py",
        "return await self._walk(limit, scan, lambda status: status.principal == principal)",
        "return await self._walk(limit, scan, lambda status: True)",
        (
            "tests/tasks/test_results.py::test_latest_of_a_principal_reads_only_theirs_within_the_scan",
        ),
    ),
    Mutant(
        "my-tasks-lists-everyones-queued",
        "kernel/tasks/_subsystem.py",
        "if s.principal == principal.id and s.id not in known",
        "if s.id not in known",
        (
            "tests/gateway/test_own_tasks.py::test_mine_lists_the_callers_tasks_only_queued_and_done",
        ),
    ),
    Mutant(
        "unsampled-trace-recorded-anyway",
        "kernel/telemetry/_spans.py",
        "    if _unsampled(traceparent):  # decided on the string: nothing built\n",
        "    if False:\n",
        (
            "tests/telemetry/test_sampling.py"
            "::test_work_of_a_trace_not_sampled_records_nothing_and_passes_its_context_on",
        ),
    ),
    Mutant(
        "server-span-plugin-runs-the-instrumentation",
        "kernel/telemetry/_http.py",
        "        plugin._middleware = config.middleware\n",
        "        pass\n",
        (
            "tests/telemetry/test_http_span.py"
            "::test_the_light_server_span_records_what_the_instrumentation_does",
        ),
    ),
    Mutant(
        "module-announces-any-node",
        "kernel/deploy/_fences.py",
        'return [f"{HEARTBEAT}.{module}", f"{LEAVING}.{module}"]',
        'return [HEARTBEAT, LEAVING, f"{HEARTBEAT}.{module}", f"{LEAVING}.{module}"]',
        ("tests/security/test_nodes.py",),
    ),
    Mutant(
        "node-table-believes-the-payload",
        "kernel/nodes/_info.py",
        "        if scope is None:\n            return None\n        if self.role",
        "        if scope is None or True:\n            return None\n        if self.role",
        ("tests/security/test_nodes.py::test_a_module_cannot_announce_another_module",),
    ),
    Mutant(
        "node-id-takeover",
        "kernel/nodes/_table.py",
        "if reason is None and scope is not None and owner != scope:",
        "if reason is None and scope is not None and owner != owner:",
        ("tests/security/test_nodes.py::test_a_module_cannot_announce_another_module",),
    ),
    Mutant(
        "node-leaving-on-anyones-word",
        "kernel/nodes/_table.py",
        "if scope is not None and self._scopes.get(node_id) != scope:",
        "if scope is not None and self._scopes.get(node_id) != scope and False:",
        ("tests/security/test_nodes.py::test_a_module_cannot_say_that_another_node_left",),
    ),
    Mutant(
        "nats-password-in-logs",
        "kernel/config.py",
        '            hidden = f"{user}:***" if separator else "***"\n',
        '            hidden = found["userinfo"]\n',
        ("tests/transport/test_servers.py",),
    ),
    Mutant(
        "default-inbox-for-every-user",
        "kernel/transport/_servers.py",
        "        return inbox_prefix(self.user)\n",
        "        return inbox_prefix(None)\n",
        ("tests/transport/test_servers.py",),
    ),
    Mutant(
        "embedded-nats-without-auth",
        "kernel/transport/_server.py",
        '            "--config",\n            str(config),\n',
        "",
        ("tests/security/test_embedded.py::test_a_client_without_the_credentials_is_refused",),
    ),
    # -- failure modes --------------------------------------------------------------------
    Mutant(
        "standin-ping-always-ok",
        "kernel/db/_standin.py",
        "            await self.client._run(self.name, lambda: None, False, [], refresh=False)\n",
        "",
        ("tests/db/test_db_ready.py::test_ready_is_503_while_the_embedded_store_cannot_serve",),
    ),
    Mutant(
        "server-error-closes-the-connection-for-good",
        "kernel/transport/_client.py",
        "        await self._process_op_err(StaleConnectionError(self.ended_by))\n",
        "        await super()._process_err(err_msg)\n",
        (
            "tests/transport/test_connection.py"
            "::test_a_kernel_process_comes_back_with_its_handlers_and_durable_consumers",
        ),
    ),
    Mutant(
        "request-not-cut-off-when-gone",
        "kernel/transport/_requests.py",
        "            future.set_exception(NoRespondersError())",
        "            pass",
        ("tests/transport/test_requests.py::test_a_request_ends_when_its_module_is_gone",),
    ),
    Mutant(
        "pending-limit-ignored-when-written-soon",
        "kernel/transport/_client.py",
        "        if self._max_pending_size > 0 and size > self._max_pending_size:",
        "        if False:",
        (
            "tests/transport/test_write_soon.py"
            "::test_the_pending_size_limit_makes_a_publisher_wait_for_the_socket",
        ),
    ),
    Mutant(
        "served-calls-not-in-service-stats",
        "kernel/registry/_serve.py",
        "            endpoint._num_requests += 1",
        "            pass",
        ("tests/registry/test_calls.py::test_service_stats_count_each_call_served",),
    ),
    Mutant(
        "shared-inbox-answer-to-any-caller",
        "kernel/transport/_requests.py",
        "        future = self.waiting.pop(message.subject, None)",
        "        future = self.waiting.pop(next(iter(self.waiting), None), None)",
        ("tests/transport/test_shared_inbox.py::test_concurrent_calls_each_get_their_own_answer",),
    ),
    Mutant(
        "credentials-only-to-the-urls-server",
        "kernel/bus/_broker.py",
        "        list(servers.urls),\n        # Given once rather than in each URL, so that servers"
        " the cluster announces get them too.\n        security=_security(servers),\n",
        "        [u.replace('://', f'://{servers.user}:{servers.password}@', 1) for u in"
        " servers.urls],\n        security=None,\n",
        (
            "tests/distribution/test_cluster.py"
            "::test_one_url_with_credentials_reaches_the_nodes_the_cluster_announces",
        ),
    ),
    Mutant(  # a '>' handler that needs WEBOS_EVENTS' advisories would hear all of $JS
        "wildcard-hears-jetstream-api",
        "kernel/deploy/_fences.py",
        'for subject in (*theirs, *(JETSTREAM_PRIVATE if root == "$JS.>" else ()))',
        "for subject in theirs",
        (
            "tests/security/test_wildcards.py"
            "::test_subscribing_to_another_modules_requests_is_refused",
        ),
    ),
    Mutant(  # nats-py's default: a stuck handler's backlog grows to 524,288 events
        "subscription-pending-unbounded",
        "kernel/bus/_bus.py",
        "pending_messages=self._settings.subscription_pending_messages,",
        "pending_messages=10**7,",
        (
            "tests/bus/test_backlog.py"
            "::test_a_stuck_handler_keeps_a_bounded_backlog_and_counts_what_it_drops",
        ),
    ),
    Mutant(
        "kept-emit-is-a-core-publish",
        "kernel/bus/_bus.py",
        "            elif keeper is not None and (durable or keeper.keeps(subject)):\n",
        "            elif keeper is not None and False:\n",
        (
            "tests/distribution/test_cluster.py"
            "::test_no_acknowledged_event_is_lost_when_the_stream_leader_is_killed",
        ),
    ),
    Mutant(
        "existing-streams-keep-their-replicas",
        "kernel/bus/_bus.py",
        "                if self.keeps_streams:\n                    await match_replicas(",
        "                if False:\n                    await match_replicas(",
        (
            "tests/distribution/test_cluster.py"
            "::test_streams_and_buckets_get_three_copies_and_existing_ones_are_raised",
        ),
    ),
    Mutant(
        "nats-outlives-gateway",
        "kernel/transport/_server.py",
        "preexec_fn=_die_with_parent,",
        "preexec_fn=None,",
        (
            "tests/cli/test_run.py"
            "::test_sigkill_of_the_gateway_takes_the_embedded_nats_server_with_it",
        ),
    ),
    # -- the guides' samples (tests/docs): a sample that drifts from the code fails CI ------
    Mutant(
        "docs-storage-sample",
        "docs/storage.md",
        'curl -s -H "$AUTH" localhost:8000/api/files/local/docs/report.pdf -o copy.pdf',
        "curl -s localhost:8000/api/files/local/docs/report.pdf -o copy.pdf",
        ("tests/docs/test_docs.py::test_guide_samples_run[storage.md]",),
    ),
    Mutant(
        # A reloaded gateway whose kernel did not start (its security subsystem included) must
        # answer nothing but 503, never serve routes from the app it could not start.
        "reload-serves-an-unstarted-kernel",
        "kernel/assembly/_reload.py",
        "        if self.failed is not None:\n",
        '        if self.failed is not None and scope["type"] == "lifespan":\n',
        (
            "tests/cli/test_startup_errors.py"
            "::test_reload_answers_503_naming_the_broken_line_until_it_is_fixed",
        ),
    ),
    Mutant(
        "module-changes-its-stream",
        "kernel/deploy/_permissions.py",
        'return [f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.STREAM.MSG.GET.{stream}"]',
        'return [f"$JS.API.STREAM.*.{stream}"]',
        (
            "tests/security/test_module_streams.py"
            "::test_a_module_uses_its_stream_but_cannot_create_or_change_one",
        ),
    ),
    Mutant(
        "module-reads-any-stream",
        "kernel/deploy/_permissions.py",
        'return [f"$JS.API.STREAM.INFO.{stream}", f"$JS.API.STREAM.MSG.GET.{stream}"]',
        'return ["$JS.API.STREAM.INFO.*", "$JS.API.STREAM.MSG.GET.*"]',
        (
            "tests/security/test_module_streams.py"
            "::test_a_module_uses_its_stream_but_cannot_create_or_change_one",
        ),
    ),
    Mutant(
        "module-stream-foreign-subjects",
        "kernel/modules/_streams.py",
        "outside = [s for s in stream.subjects if not any(covers(e, s) for e in emits)]",
        "outside = [s for s in stream.subjects if not any(covers(s, e) for e in emits)]",
        (
            "tests/modules/test_streams.py"
            "::test_a_stream_wider_than_what_the_module_emits_is_refused",
        ),
    ),
    Mutant(
        "module-stream-foreign-name",
        "kernel/modules/_streams.py",
        'or (name != own and not name.startswith(f"{own}_"))',
        "or (name != own and not name.startswith(own))",
        (
            "tests/modules/test_streams.py"
            "::test_a_stream_named_for_another_module_or_the_kernel_is_refused",
        ),
    ),
    Mutant(
        "stop-signal-ignored-while-starting",
        "kernel/runtime/_kernel.py",
        "            task.get_loop().call_soon_threadsafe(task.cancel)",
        "            pass",
        (
            "tests/cli/test_nats_down.py::test_a_signal_stops_a_start_up_hook_that_never_ends",
            "tests/cli/test_nats_down.py::test_wait_keeps_trying_until_a_stop_signal[worker-SIGTERM]",
        ),
    ),
    Mutant(
        "emit-reconnects-forever-when-nats-is-down",
        "kernel/cli/_events.py",
        '    await reach(target.url, "webos-cli", timeout=target.timeout, wait=target.wait)\n',
        "",
        (
            "tests/cli/test_nats_down.py"
            "::test_a_command_fails_with_one_line_when_nats_is_down[events emit]",
        ),
    ),
    Mutant(
        "non-idempotent-call-retried",
        "kernel/registry/_policy.py",
        "return self.retries if self.idempotent else 0",
        "return self.retries",
        (
            "tests/distribution/test_failing_well.py"
            "::test_a_method_not_marked_idempotent_is_sent_once",
        ),
    ),
    Mutant(
        "bulkhead-not-taken",
        "kernel/registry/_remote.py",
        "            await slots.acquire()  # free: returns without suspending\n",
        "            pass\n",
        (
            "tests/distribution/test_failing_well.py"
            "::test_a_hundred_calls_never_put_more_than_concurrency_in_flight",
        ),
    ),
    Mutant(
        "remote-exception-opens-the-circuit",
        "kernel/registry/_remote.py",
        "            guard.errors += 1\n            breaker.record(False)\n",
        "            guard.errors += 1\n            breaker.record(True)\n",
        ("tests/distribution/test_failing_well.py::test_remote_exceptions_never_open_the_circuit",),
    ),
    Mutant(
        "breaker-never-opens-at-the-ratio",
        "kernel/registry/_guard.py",
        "and self._failures >= policy.failure_ratio * self._calls",
        "and self._failures > policy.failure_ratio * self._calls",
        ("tests/registry/test_policies.py",),
    ),
    Mutant(
        "services-call-unguarded",
        "kernel/gateway/_calls.py",
        "    guards=[requires(CALL_PERMISSION)],",
        "    guards=[],",
        ("tests/registry/test_calls.py::test_gateway_calls_as_the_caller_with_services_call",),
    ),
    Mutant(
        "service-name-wildcard",
        "kernel/registry/_calls.py",
        "        if not NAME.fullmatch(name):",
        "        if not name:",
        ("tests/registry/test_calls.py::test_gateway_calls_as_the_caller_with_services_call",),
    ),
    Mutant(
        "service-arguments-unvalidated",
        "kernel/registry/_arguments.py",
        "            arguments[name] = adapter.validate_python(value)",
        "            arguments[name] = value",
        ("tests/registry/test_calls.py::test_call_by_name_validates_on_the_serving_side",),
    ),
    Mutant(  # the one-pass reading of a call must refuse what the general reading refuses
        "service-arguments-unknown-dropped",
        "kernel/registry/_codec.py",
        'args.__pydantic_config__ = ConfigDict(extra="forbid")',
        'args.__pydantic_config__ = ConfigDict(extra="ignore")',
        (
            "tests/registry/test_codec.py::test_a_bad_body_names_every_problem_whichever_way_it_came",
        ),
    ),
    Mutant(
        "deadline-late-call-sent",
        "kernel/propagation.py",
        "    if left <= 0:\n        raise DeadlineExceeded(",
        "    if left < 0:\n        raise DeadlineExceeded(",
        (
            "tests/distribution/test_deadlines.py"
            "::test_a_call_made_after_the_deadline_fails_at_once_without_being_sent",
        ),
    ),
    Mutant(
        "deadline-not-sent-with-calls",
        "kernel/propagation.py",
        "    timeout = min(timeout, left)\n    headers[HEADER_DEADLINE] = str(",
        "    timeout = min(timeout, left)\n    str(",
        (
            "tests/distribution/test_deadlines.py"
            "::test_a_deadline_reaches_the_second_hop_and_ends_its_work",
        ),
    ),
    Mutant(
        "deadline-served-call-runs-on",
        "kernel/registry/_serve.py",
        "        bound = None if left is None else asyncio.timeout(left)",
        "        bound = None",
        (
            "tests/distribution/test_deadlines.py"
            "::test_a_deadline_reaches_the_second_hop_and_ends_its_work",
        ),
    ),
    Mutant(
        "deadline-forwarded-route-runs-on",
        "kernel/gateway/_deadline.py",
        "        task.cancel()\n\n    timer = asyncio.get_running_loop()",
        "        pass\n\n    timer = asyncio.get_running_loop()",
        (
            "tests/distribution/test_deadlines.py"
            "::test_a_forwarded_route_is_cancelled_at_the_gateways_deadline",
        ),
    ),
    Mutant(
        "propagation-absent-header-keeps-the-receivers-value",
        "kernel/propagation.py",
        "        if value is None and variable.get() is None:",
        "        if value is None:",
        (
            "tests/test_propagation.py"
            "::test_a_message_without_a_header_clears_what_the_receiver_had_and_undo_restores_it",
        ),
    ),
    Mutant(
        "deadline-on-events",
        "kernel/propagation.py",
        "        return self._propagators if awaited else self._oneway",
        "        return self._propagators",
        (
            "tests/test_propagation.py::test_the_deadline_goes_with_calls_never_with_events_or_tasks",
        ),
    ),
    Mutant(
        "keyed-call-resent-after-its-node-left",
        "kernel/registry/_remote.py",
        "if node_gone is not None and node_gone.done() and not idempotent:",
        "if node_gone is not None and node_gone.done() and False:",
        (
            "tests/distribution/test_keyed_departures.py"
            "::test_a_keyed_call_to_a_killed_instance_ends_when_the_table_drops_it",
        ),
    ),
    Mutant(
        "deadline-cut-wait-held-by-the-breaker",
        "kernel/registry/_remote.py",
        "        if timeout < wanted:",
        "        if False:",
        (
            "tests/distribution/test_failing_well_deadlines.py"
            "::test_a_wait_cut_by_the_deadline_is_not_held_against_the_service",
        ),
    ),
    Mutant(
        "service-cut-at-the-deadline-read-as-a-remote-error",
        "kernel/registry/_remote.py",
        "        if code == DEADLINE_CODE:",
        "        if False:",
        (
            "tests/distribution/test_failing_well_deadlines.py"
            "::test_a_call_the_service_cut_at_the_deadline_is_a_deadline_exceeded_for_the_caller",
        ),
    ),
    Mutant(
        "module-cut-at-the-deadline-passed-on-as-its-own-answer",
        "kernel/forwarding/_client.py",
        '        if answer.status == 503 and (DEADLINE_CUT, b"1") in answer.headers:',
        "        if False:",
        (
            "tests/distribution/test_deadlines.py"
            "::test_the_module_process_cutting_first_gives_the_client_the_gateways_own_503",
        ),
    ),
    Mutant(
        "retry-sleeps-past-the-deadline",
        "kernel/registry/_remote.py",
        "                if left is not None and left <= delay:",
        "                if False:",
        (
            "tests/distribution/test_failing_well_deadlines.py"
            "::test_retries_stop_when_the_deadline_leaves_no_time_for_the_next",
        ),
    ),
    Mutant(
        "call-by-name-without-the-deadline",
        "kernel/registry/_calls.py",
        '    timeout = call_deadline(timeout, headers, f"{service}.{method}()")',
        "    timeout = timeout",
        ("tests/registry/test_calls.py::test_a_call_by_name_carries_the_deadline_in_force",),
    ),
    Mutant(
        "contracts-removed-required-field-safe",
        "kernel/asyncapi/_changes.py",
        "            if name in old_required:\n"
        '                yield "breaking", f"removed required field {field!r}"',
        "            if False:\n"
        '                yield "breaking", f"removed required field {field!r}"',
        (
            "tests/asyncapi/test_changes.py"
            "::test_dropping_a_field_a_consumer_requires_breaks_naming_field_and_both_modules",
        ),
    ),
    Mutant(
        "contracts-missing-field-accepted",
        "kernel/asyncapi/_compat.py",
        "        if name not in p_props:\n"
        '            yield f"field {field!r} is required, and the producer does not send it"',
        "        if False:\n"
        '            yield f"field {field!r} is required, and the producer does not send it"',
        (
            "tests/asyncapi/test_compat.py::test_a_required_field_the_producer_lacks_is_named",
            "tests/cli/test_contracts.py"
            "::test_dropping_a_field_a_consumer_requires_fails_the_check_naming_it",
        ),
    ),
    Mutant(
        "asyncapi-document-unguarded",
        "kernel/asyncapi/_subsystem.py",
        "@get(DOCUMENT_PATH, guards=[requires(READ_PERMISSION)], include_in_schema=False)",
        "@get(DOCUMENT_PATH, include_in_schema=False)",
        ("tests/asyncapi/test_http.py::test_the_catalog_needs_system_read",),
    ),
    Mutant(
        "asyncapi-page-unguarded",
        "kernel/asyncapi/_subsystem.py",
        "@get(PAGE_PATH, guards=[requires(READ_PERMISSION)], include_in_schema=False)",
        "@get(PAGE_PATH, include_in_schema=False)",
        ("tests/asyncapi/test_http.py::test_the_catalog_needs_system_read",),
    ),
    Mutant(
        "asyncapi-page-unescaped",
        "kernel/asyncapi/_page.py",
        "    return html.escape(str(text), quote=True)",
        "    return str(text)",
        ("tests/asyncapi/test_page.py::test_text_from_module_code_is_escaped",),
    ),
    Mutant(
        "asyncapi-server-keeps-credentials",
        "kernel/asyncapi/_document.py",
        'host = parts.hostname or "127.0.0.1"',
        'host = parts.netloc.rsplit(":", 1)[0] or "127.0.0.1"',
        (
            "tests/asyncapi/test_document.py"
            "::test_the_project_modules_make_a_valid_asyncapi_3_document",
        ),
    ),
    Mutant(  # unit tests would pass while a task runs as nobody over NATS
        "memory-task-without-the-callers-labels",
        "kernel/tasks/_memory.py",
        "        labels = outgoing_labels(self._propagation)",
        "        labels: dict[str, str] = {}",
        ("tests/testing/test_unit.py::test_a_task_queued_by_a_route_runs_in_memory_as_its_caller",),
    ),
    Mutant(  # the console's Admin app: its own users.admin guard over every path below it
        "console-admin-app-open",
        "modules/auth/ui.py",
        "    permission=USERS_ADMIN,\n    order=90,",
        "    permission=None,\n    order=90,",
        ("modules/auth/tests/test_console.py::test_the_admin_app_needs_users_admin",),
    ),
    Mutant(  # the clear refusal of one's own roles, shared by the REST route and the console
        "admin-changes-own-roles",
        "modules/auth/_admin.py",
        "    if actor.id == target_id:\n",
        "    if actor.id == target_id and False:\n",
        ("modules/auth/tests/test_console.py::test_nobody_changes_their_own_roles_in_the_console",),
    ),
    Mutant(  # a key no wider than its owner, shared by the REST route and My account
        "key-wider-than-owner",
        "modules/auth/_keys.py",
        "    beyond = sorted(p for p in permissions if not has_permission(principal, p))",
        "    beyond: list[str] = []",
        ("modules/auth/tests/test_console.py::test_a_key_wider_than_its_owner_is_refused",),
    ),
    Mutant(
        "settings-locked-field-saved",
        "kernel/livesettings/_fields.py",
        "        elif name in environment:\n",
        "        elif False and name in environment:\n",
        ("tests/livesettings/test_live.py::test_an_environment_variable_locks_its_field",),
    ),
    Mutant(
        "settings-saved-beats-environment",
        "kernel/livesettings/_fields.py",
        "        return cls.model_validate({**chosen, **environment})",
        "        return cls.model_validate({**environment, **saved})",
        ("tests/livesettings/test_fields.py::test_the_environment_wins_over_a_saved_value",),
    ),
    Mutant(
        "settings-secret-shown",
        "kernel/livesettings/_fields.py",
        "value=None if secret else _jsonable(value),",
        "value=_jsonable(value),",
        (
            "tests/livesettings/test_live.py"
            "::test_a_secret_is_write_only_and_the_hook_sees_the_new_settings",
        ),
    ),
    Mutant(
        "module-reads-any-settings",
        "kernel/deploy/_permissions.py",
        "        direct_get_subject(facts.name),\n",
        '        direct_get_subject("*"),\n',
        (
            "tests/security/test_settings.py"
            "::test_a_module_applies_its_own_settings_and_no_other_module_reads_them",
        ),
    ),
    Mutant(
        "explorer-write-unchecked",
        "kernel/explorer/_views.py",
        "        if not has_permission(principal, self.write_permission):\n            raise",
        "        if not has_permission(principal, self.read_permission):\n            raise",
        ("tests/explorer/test_api.py::test_reading_and_writing_need_the_model_permissions",),
    ),
    Mutant(
        "explorer-secretstr-shown",
        "kernel/explorer/_options.py",
        "    return _mentions_secret(info.annotation)",
        "    return False",
        (
            "tests/explorer/test_hidden.py::test_secret_and_hidden_fields_are_never_shown_nor_accepted",
        ),
    ),
    Mutant(
        "explorer-password-name-shown",
        "kernel/explorer/_options.py",
        "    if SENSITIVE_NAME.search(name):",
        "    if False:",
        (
            "tests/explorer/test_hidden.py::test_secret_and_hidden_fields_are_never_shown_nor_accepted",
        ),
    ),
    Mutant(
        "explorer-hidden-fields-shown",
        "kernel/explorer/_views.py",
        "if name in MANAGED or name in self.options.hidden_fields or is_secret(name, info):",
        "if name in MANAGED or is_secret(name, info):",
        ("tests/explorer/test_hidden.py::test_auth_models_show_no_hash_and_change_nothing",),
    ),
    Mutant(
        "explorer-record-unredacted",
        "kernel/explorer/_views.py",
        'dumped = document.model_dump(mode="json", include=set(self.visible) - {"id"})',
        'dumped = document.model_dump(mode="json", exclude={"id"})',
        ("tests/explorer/test_hidden.py::test_auth_models_show_no_hash_and_change_nothing",),
    ),
    Mutant(
        "explorer-hidden-field-sortable",
        "kernel/explorer/_query.py",
        'if name not in view.visible:\n        raise BadQuery(f"cannot sort',
        'if name not in {*view.document.model_fields, "id"}:\n        raise BadQuery(f"cannot sort',
        ("tests/explorer/test_api.py::test_bad_queries_are_clear_400s",),
    ),
    Mutant(
        "explorer-cursor-operator",
        "kernel/explorer/_query.py",
        "or not isinstance(value, _SCALARS):",
        ":",
        ("tests/explorer/test_api.py::test_bad_queries_are_clear_400s",),
    ),
]


@dataclass
class Outcome:
    mutant: Mutant
    verdict: str  # caught, SURVIVED, ERROR, passed (baseline), FAILED (baseline)
    seconds: float
    detail: str = ""


def repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    # --cached still lists files deleted in the work tree; they are not part of the copy.
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def check_snippets(mutants: list[Mutant]) -> list[str]:
    """One line per mutant whose ``original`` is not in its file exactly once."""
    problems = []
    for mutant in mutants:
        path = ROOT / mutant.path
        if not path.is_file():
            problems.append(f"{mutant.name}: {mutant.path} does not exist")
            continue
        count = path.read_text().count(mutant.original)
        if count != 1:
            problems.append(
                f"{mutant.name}: snippet found {count} times in {mutant.path} (must be once): "
                f"{mutant.original!r}"
            )
    return problems


def copy_repository(files: list[str], scratch: Path) -> None:
    for name in files:
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def environment(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(scratch), env.get("PYTHONPATH")]))
    env.pop("PYTEST_ADDOPTS", None)
    return env


def imports_from(scratch: Path, env: dict[str, str]) -> str:
    """Where ``import kernel`` resolves in the copy; raise unless it is the copy's own."""
    found = subprocess.run(
        [sys.executable, "-c", "import kernel; print(kernel.__file__)"],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    where = found.stdout.strip()
    if found.returncode != 0 or not Path(where).resolve().is_relative_to(scratch.resolve()):
        raise RuntimeError(
            f"the copy imports kernel from {where or found.stderr.strip()!r}, not from {scratch}: "
            "a mutation there would go unseen"
        )
    return where


def run_one(mutant: Mutant, files: list[str], *, baseline: bool, keep: bool) -> Outcome:
    started = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=f"webos-mutant-{mutant.name}-"))
    try:
        copy_repository(files, scratch)
        env = environment(scratch)
        imports_from(scratch, env)
        if not baseline:
            path = scratch / mutant.path
            text = path.read_text()
            if text.count(mutant.original) != 1:
                raise RuntimeError(f"snippet not found exactly once in {mutant.path}")
            path.write_text(text.replace(mutant.original, mutant.mutated))
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={scratch / '.pytest-tmp'}",
            *mutant.tests,
        ]
        try:
            run = subprocess.run(
                command,
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                timeout=PER_MUTANT_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return Outcome(mutant, "ERROR", time.monotonic() - started, "timed out")
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:])
        seconds = time.monotonic() - started
        if baseline:
            return Outcome(mutant, "passed" if run.returncode == 0 else "FAILED", seconds, tail)
        # pytest: 1 = tests failed (caught); 0 = all passed (survived); anything else (no tests
        # collected, usage or collection error, interrupted) proves nothing about the mutant.
        if run.returncode == 1:
            return Outcome(mutant, "caught", seconds)
        if run.returncode == 0:
            return Outcome(mutant, "SURVIVED", seconds, tail)
        return Outcome(mutant, "ERROR", seconds, f"pytest exited {run.returncode}\n{tail}")
    except Exception as error:
        return Outcome(mutant, "ERROR", time.monotonic() - started, f"{error}")
    finally:
        if keep:
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only NAME (repeat)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument(
        "--baseline", action="store_true", help="run the tests unmutated: they must pass"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    args = parser.parse_args(argv)

    names = [mutant.name for mutant in MUTANTS]
    if len(set(names)) != len(names):
        print("mutant names must be unique", file=sys.stderr)
        return 2
    chosen = MUTANTS
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            print(f"unknown mutant(s): {', '.join(unknown)}. Known: {', '.join(names)}")
            return 2
        chosen = [mutant for mutant in MUTANTS if mutant.name in args.only]
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name:<30} {mutant.path:<30} {' '.join(mutant.tests)}")
        return 0

    problems = check_snippets(chosen)
    if problems:
        print("the mutant list is out of step with the code:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1

    files = repository_files()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [
            pool.submit(run_one, mutant, files, baseline=args.baseline, keep=args.keep)
            for mutant in chosen
        ]
        outcomes = [future.result() for future in futures]

    width = max(len(mutant.name) for mutant in chosen)
    print(f"\n{'mutant':<{width}}  {'result':<8}  seconds")
    for outcome in outcomes:
        print(f"{outcome.mutant.name:<{width}}  {outcome.verdict:<8}  {outcome.seconds:7.1f}")
    print(f"{len(outcomes)} mutants in {time.monotonic() - started:.0f} s")
    good = {"caught", "passed"}
    for outcome in outcomes:
        if outcome.verdict not in good:
            print(f"\n--- {outcome.mutant.name}: {outcome.verdict}\n{outcome.detail}")
    return 0 if all(outcome.verdict in good for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
