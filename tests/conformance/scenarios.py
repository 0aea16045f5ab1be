"""The conformance table: named sequences of HTTP requests, run unchanged on both servers.

Placeholders, replaced before each request: ``{key}`` (unique per scenario run and server, so no
state leaks between scenarios), ``{idN}`` (the invocation id answered by step N, from the
``invocationId`` or ``new_invocation_id`` body field or the ``x-restate-id`` header) and ``{awk}``
(the JSON string body of the last step marked ``capture_awk``). ``R(...)`` only builds a record; there
is no logic in this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_NO_BODY = object()


@dataclass(frozen=True)
class Req:
    """One HTTP request of a scenario and how to compare its answer."""

    method: str
    path: str
    json: Any = _NO_BODY  # sent as JSON with ``content-type: application/json``
    raw: bytes | None = None  # sent as is, with only the headers given
    headers: dict[str, str] = field(default_factory=dict)
    admin: bool = False  # sent to the admin API instead of the ingress
    wait: float = 0.0  # seconds to sleep before sending
    timed: bool = False  # compare whether the answer came within FAST_S
    sort: bool = False  # sort JSON lists before comparing (order varies on the real server)
    openapi: bool = False  # compare only the OpenAPI structure of the body
    capture_awk: bool = False  # remember the body (a JSON string) as ``{awk}``
    #: A documented defect of the real server: (real status, restate_lab status) instead of equality.
    expected_difference: tuple[int, int] | None = None

    @property
    def has_json(self) -> bool:
        return self.json is not _NO_BODY


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Req, ...]
    note: str = ""

    @property
    def needs_admin(self) -> bool:
        return any(step.admin for step in self.steps)


def R(method: str, path: str, json: Any = _NO_BODY, **kw: Any) -> Req:  # noqa: N802 - reads like a table row
    return Req(method, path, json, **kw)


def S(name: str, *steps: Req, note: str = "") -> Scenario:  # noqa: N802
    return Scenario(name, steps, note)


CT_JSON = {"content-type": "application/json"}
FAST_S = 0.6
BIG_BODY = b'"' + b"x" * (33 * 1024 * 1024) + b'"'

SCENARIOS: list[Scenario] = [
    # --- calls -----------------------------------------------------------------------------
    S("call_service", R("POST", "/Greeter/greet", "Ada")),
    S(
        "call_content_type_with_charset",
        R("POST", "/Greeter/greet", raw=b'"Ada"', headers={"content-type": "application/json; charset=utf-8"}),
    ),
    S("call_no_input_handler", R("POST", "/Greeter/no_input")),
    S("call_body_to_no_input_handler", R("POST", "/Greeter/no_input", "unexpected")),
    S("call_echo_object", R("POST", "/Greeter/echo", {"a": [1, 2, None], "b": "x"})),
    S("call_echo_null_answers_empty", R("POST", "/Greeter/echo", None)),
    S("call_no_body_no_content_type", R("POST", "/Greeter/echo")),
    S("call_empty_body_with_json_content_type", R("POST", "/Greeter/echo", raw=b"", headers=CT_JSON)),
    S("call_wrong_content_type", R("POST", "/Greeter/greet", raw=b'"Ada"', headers={"content-type": "text/plain"})),
    S("call_body_without_content_type", R("POST", "/Greeter/greet", raw=b'"Ada"')),
    S("call_malformed_json", R("POST", "/Greeter/greet", raw=b'{"name": ', headers=CT_JSON)),
    S("call_accept_header_ignored", R("POST", "/Greeter/greet", "Ada", headers={"accept": "text/plain"})),
    S("call_request_headers_reach_handler", R("POST", "/Greeter/headers", headers={"x-custom": "hello"})),
    S(
        "call_handler_sees_every_header_as_restate_passes_them",
        R("POST", "/Greeter/all_headers", {"n": 1}, headers={"x-custom": "hello"}),
    ),
    S("call_terminal_error_status", R("POST", "/Greeter/terminal")),
    S("call_get_is_call_with_empty_body", R("GET", "/Greeter/greet"), R("GET", "/restate/call/Greeter/no_input")),
    S(
        "call_wrong_methods",
        R("PUT", "/Greeter/greet", "x"),
        R("DELETE", "/Greeter/greet"),
        R("PATCH", "/Greeter/greet", "x"),
        R("HEAD", "/Greeter/greet"),
    ),
    S(
        "call_cors_preflight",
        R(
            "OPTIONS",
            "/Greeter/greet",
            headers={"origin": "http://example.com", "access-control-request-method": "POST"},
        ),
    ),
    S("call_body_over_size_limit", R("POST", "/Greeter/echo", raw=BIG_BODY, headers=CT_JSON)),
    # --- bad paths ---------------------------------------------------------------------------
    S("path_unknown_service", R("POST", "/Nope/greet", "x"), R("POST", "/Nope/k/h/send", "x")),
    S("path_unknown_handler", R("POST", "/Greeter/nope", "x"), R("POST", "/Counter/{key}/nope", 1)),
    S("path_service_only", R("POST", "/Greeter", "x"), R("POST", "/", "x")),
    S("path_object_without_key", R("POST", "/Counter/add", 1), R("POST", "/Counter/add/send", 1)),
    S(
        "path_extra_segments",
        R("POST", "/Greeter/greet/extra/more", "x"),
        R("POST", "/Greeter/k/greet", "x"),
        R("POST", "/Greeter/greet/sendx", "x"),
    ),
    S("path_ingress_private_handler", R("POST", "/Greeter/secret"), R("POST", "/Greeter/secret/send")),
    S("path_ingress_has_no_openapi", R("GET", "/openapi"), R("GET", "/restate/openapi"), R("GET", "/restate/nope")),
    S("health", R("GET", "/restate/health", sort=True)),
    # --- virtual objects ---------------------------------------------------------------------
    S(
        "object_state_per_key",
        R("POST", "/Counter/{key}/add", 5),
        R("POST", "/Counter/{key}/add", 2),
        R("POST", "/Counter/{key}/get"),
        R("POST", "/Counter/{key}-other/get"),
    ),
    S(
        "object_key_encoding",
        R("POST", "/Counter/{key}%2Fa/add", 1),
        R("POST", "/Counter/{key}/a/get"),
        R("POST", "/Counter/{key}%2Fa/get/"),
    ),
    S(
        "object_exclusive_serialises_shared_does_not",
        R("POST", "/Counter/{key}/hold/send", 1.2),
        R("POST", "/Counter/{key}/get", wait=0.2, timed=True),
        R("POST", "/Counter/{key}/add", 1, timed=True),
        R("POST", "/Counter/{key}-free/add", 1, timed=True),
    ),
    S(
        "object_exclusive_calls_answer_in_order",
        R("POST", "/Counter/{key}/hold/send", 0.8),
        R("POST", "/Counter/{key}/add/send", 10),
        R("POST", "/Counter/{key}/get", wait=0.1, timed=True),
        R("GET", "/restate/invocation/{id1}/attach", timed=True),
        R("POST", "/Counter/{key}/get"),
    ),
    # --- send and delays ---------------------------------------------------------------------
    S(
        "send_service",
        R("POST", "/Greeter/greet/send", "Ada"),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
        R("GET", "/restate/invocation/{id0}/output"),
    ),
    S(
        "send_object",
        R("POST", "/Counter/{key}/add/send", 3),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
        R("POST", "/Counter/{key}/get"),
    ),
    S(
        "send_delay_humantime",
        R("POST", "/Greeter/greet/send?delay=1s", "Later"),
        R("GET", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}/attach", timed=True),
    ),
    S(
        "send_delay_iso8601",
        R("POST", "/Greeter/greet/send?delay=PT1S", "Iso"),
        R("GET", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}/attach", timed=True),
    ),
    S(
        "send_delay_spellings",
        R("POST", "/Greeter/greet/send?delay=1500ms", "ms"),
        R("POST", "/Greeter/greet/send?delay=1h%202m", "spaced"),
        R("POST", "/Greeter/greet/send?delay=1h2m", "joined"),
        R("POST", "/Greeter/greet/send?delay=pt2s", "lower"),
        R("POST", "/Greeter/greet/send?delay=P1D", "day"),
        R("POST", "/Greeter/greet/send?delay=0s", "zero"),
        R("POST", "/Greeter/greet/send?delay=2s&foo=bar", "q"),
    ),
    S("send_delay_bare_number", R("POST", "/Greeter/greet/send?delay=2", "x")),
    S("send_delay_garbage", R("POST", "/Greeter/greet/send?delay=abc", "x")),
    S("send_delay_negative", R("POST", "/Greeter/greet/send?delay=-1s", "x")),
    S("send_delay_empty", R("POST", "/Greeter/greet/send?delay=", "x")),
    S("send_delay_upper_case_unit", R("POST", "/Greeter/greet/send?delay=2S", "x")),
    S("call_with_delay_refused", R("POST", "/Greeter/greet?delay=1s", "x")),
    S(
        "send_delay_object",
        R("POST", "/Counter/{key}/add/send?delay=500ms", 4),
        R("POST", "/Counter/{key}/get"),
        R("GET", "/restate/invocation/{id0}/attach"),
        R("POST", "/Counter/{key}/get"),
    ),
    # --- idempotency -------------------------------------------------------------------------
    S(
        "idempotency_same_key_same_id",
        R("POST", "/Greeter/greet", "Ada", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/greet", "Ada", headers={"idempotency-key": "{key}"}),
    ),
    S(
        "idempotency_different_body_gets_first_result",
        R("POST", "/Greeter/greet", "Ada", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/greet", "Eve", headers={"idempotency-key": "{key}"}),
    ),
    S(
        "idempotency_send_after_call_previously_accepted",
        R("POST", "/Greeter/greet", "Ada", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/greet/send", "Ada", headers={"idempotency-key": "{key}"}),
    ),
    S(
        "idempotency_send_twice_then_call",
        R("POST", "/Greeter/greet/send", "S", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/greet/send", "S", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/greet", "S", headers={"idempotency-key": "{key}"}, wait=0.3),
    ),
    S(
        "idempotency_key_scoped_by_handler",
        R("POST", "/Greeter/greet", "Ada", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/no_input", headers={"idempotency-key": "{key}"}),
    ),
    S(
        "idempotency_object_key",
        R("POST", "/Counter/{key}/add", 1, headers={"idempotency-key": "k"}),
        R("POST", "/Counter/{key}/add", 1, headers={"idempotency-key": "k"}),
        R("POST", "/Counter/{key}/get"),
    ),
    S(
        "idempotency_empty_key_is_no_key",
        R("POST", "/Greeter/greet", "E", headers={"idempotency-key": ""}),
        R("POST", "/Greeter/greet", "E", headers={"idempotency-key": ""}),
    ),
    S(
        "idempotency_failure_replayed",
        R("POST", "/Greeter/terminal", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/terminal", headers={"idempotency-key": "{key}"}),
    ),
    S(
        "idempotency_repeat_attaches_while_running",
        R("POST", "/Greeter/slow/send", 0.8, headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/slow", 0.8, headers={"idempotency-key": "{key}"}, timed=True),
    ),
    S(
        "idempotency_key_on_workflow_refused",
        R("POST", "/Signup/{key}/run", "Bob", headers={"idempotency-key": "{key}"}),
    ),
    S(
        "idempotency_delayed_send",
        R("POST", "/Greeter/greet/send?delay=1s", "d", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/greet/send?delay=1s", "d", headers={"idempotency-key": "{key}"}),
    ),
    # --- attach and output -------------------------------------------------------------------
    S(
        "output_before_completion",
        R("POST", "/Greeter/slow/send", 0.8),
        R("GET", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}/attach", timed=True),
        R("GET", "/restate/invocation/{id0}/output"),
    ),
    S(
        "output_of_terminal_failure",
        R("POST", "/Greeter/terminal/send"),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
        R("GET", "/restate/invocation/{id0}/output"),
    ),
    S(
        "output_of_plain_call",
        R("POST", "/Greeter/greet", "NoKey"),
        R("GET", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}/attach"),
    ),
    S(
        "invocation_id_syntax",
        R("GET", "/restate/invocation/not-an-id/attach"),
        R("GET", "/restate/invocation/inv_123/output"),
        R("GET", "/restate/output/not-an-id"),
        R("GET", "/restate/attach/inv_123"),
    ),
    S(
        "invocation_route_shapes",
        R("POST", "/Greeter/greet/send", "R"),
        R("POST", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}"),
        R("GET", "/restate/invocation/{id0}/bogus"),
    ),
    S(
        "by_idempotency_key_service",
        R("POST", "/Greeter/greet", "K", headers={"idempotency-key": "{key}"}),
        R("GET", "/restate/invocation/Greeter/greet/{key}/attach"),
        R("GET", "/restate/invocation/Greeter/greet/{key}/output"),
    ),
    S(
        "by_idempotency_key_object",
        R("POST", "/Counter/{key}/add", 2, headers={"idempotency-key": "k"}),
        R("GET", "/restate/invocation/Counter/{key}/add/k/attach"),
        R("GET", "/restate/invocation/Counter/{key}/add/k/output"),
    ),
    S(
        "by_idempotency_key_unknown",
        R("GET", "/restate/invocation/Greeter/greet/{key}/output"),
        R("GET", "/restate/invocation/Greeter/greet/{key}/attach"),
        R("GET", "/restate/invocation/Nope/greet/{key}/output"),
    ),
    S(
        "unknown_invocation_via_lookup",
        R(
            "POST",
            "/restate/lookup",
            {"target": "idempotentInvocation", "service": "Greeter", "handler": "greet", "idempotencyKey": "{key}"},
        ),
        R("GET", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}/attach"),
    ),
    # --- versioned 1.7 families --------------------------------------------------------------
    S(
        "v17_call_and_send",
        R("POST", "/restate/call/Greeter/greet", "V"),
        R("POST", "/restate/send/Greeter/greet", "V"),
        R("GET", "/restate/attach/{id1}", wait=0.3),
        R("GET", "/restate/output/{id1}"),
    ),
    S(
        "v17_object_paths",
        R("POST", "/restate/call/Counter/{key}/add", 2),
        R("POST", "/restate/send/Counter/{key}/add?delay=PT0.3S", 1),
        R("GET", "/restate/attach/{id1}"),
        R("POST", "/restate/call/Counter/{key}/get"),
    ),
    S(
        "v17_bad_paths",
        R("POST", "/restate/call/Greeter/greet/send", "x"),
        R("POST", "/restate/call/Greeter", "x"),
        R("POST", "/restate/call/Nope/greet", "x"),
        R("POST", "/restate/scope/s1/call/Greeter/greet", "x"),
    ),
    S(
        "v17_post_attach_output",
        R("POST", "/Greeter/greet/send", "P"),
        R("POST", "/restate/attach", {"target": "invocation", "invocationId": "{id0}"}, wait=0.3),
        R("POST", "/restate/output", {"target": "invocation", "invocationId": "{id0}"}),
    ),
    S(
        "v17_lookup_targets",
        R("POST", "/Greeter/greet", "L", headers={"idempotency-key": "{key}"}),
        R(
            "POST",
            "/restate/lookup",
            {"target": "idempotentInvocation", "service": "Greeter", "handler": "greet", "idempotencyKey": "{key}"},
        ),
        R(
            "POST",
            "/restate/output",
            {"target": "idempotentInvocation", "service": "Greeter", "handler": "greet", "idempotencyKey": "{key}"},
        ),
    ),
    S(
        "v17_lookup_malformed_body",
        R("POST", "/restate/lookup", raw=b"{", headers=CT_JSON, expected_difference=(500, 400)),
        note="Restate 1.7.12 answers a malformed lookup body with 500; restate_lab answers 400 (issue 3).",
    ),
    # --- workflows ---------------------------------------------------------------------------
    S(
        "workflow_lifecycle",
        R("POST", "/Signup/{key}/run/send", "Bob"),
        R("POST", "/Signup/{key}/status", wait=0.3),
        R("GET", "/restate/workflow/Signup/{key}/output"),
        R("POST", "/Signup/{key}/approve", "Ann"),
        # Waiting lets the run finish on both servers: whether attach finds it done decides idempotency-expires.
        R("GET", "/restate/workflow/Signup/{key}/attach", wait=0.5),
        R("GET", "/restate/workflow/Signup/{key}/output"),
        R("POST", "/Signup/{key}/status"),
    ),
    S(
        "workflow_run_again",
        R("POST", "/Signup/{key}/run/send", "Bob"),
        R("POST", "/Signup/{key}/run/send", "Bob"),
        R("POST", "/Signup/{key}/run", "Bob", wait=0.2),
        R("POST", "/Signup/{key}/approve", "Ann"),
        R("POST", "/Signup/{key}/run", "Bob", wait=0.2),
    ),
    S(
        "workflow_promise_resolved_twice",
        R("POST", "/Signup/{key}/approve", "Ann"),
        R("POST", "/Signup/{key}/approve", "Ben"),
        R("POST", "/Signup/{key}/run", "Bob"),
    ),
    S(
        "workflow_shared_before_run",
        R("POST", "/Signup/{key}/status"),
        R("GET", "/restate/workflow/Signup/{key}/output"),
        R("GET", "/restate/workflow/Signup/{key}/attach"),
    ),
    S(
        "workflow_v17_lookup",
        R("POST", "/Signup/{key}/run/send", "W"),
        R("POST", "/restate/lookup", {"target": "workflow", "workflowName": "Signup", "workflowKey": "{key}"}),
        R("POST", "/Signup/{key}/approve", "Al"),
        R(
            "POST",
            "/restate/attach",
            {"target": "workflow", "workflowName": "Signup", "workflowKey": "{key}"},
            wait=0.5,
        ),
    ),
    # --- awakeables --------------------------------------------------------------------------
    S(
        "awakeable_resolve",
        R("POST", "/Counter/{key}/wait_awakeable/send"),
        R("POST", "/Counter/{key}/awakeable", wait=0.4, capture_awk=True),
        R("POST", "/restate/awakeables/{awk}/resolve", {"ok": True}),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
        R("POST", "/restate/awakeables/{awk}/resolve", {"again": True}),
    ),
    S(
        "awakeable_reject",
        R("POST", "/Counter/{key}/wait_awakeable/send"),
        R("POST", "/Counter/{key}/awakeable", wait=0.4, capture_awk=True),
        R("POST", "/restate/awakeables/{awk}/reject", raw=b"nope", headers={"content-type": "text/plain"}),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
    ),
    S(
        "awakeable_bad_ids",
        R("POST", "/restate/awakeables/nope/resolve", 1),
        R("POST", "/restate/awakeables/inv_1abc/resolve", 1),
        R("POST", "/restate/awakeables/sign_1abc/reject", 1),
    ),
    # --- retries -----------------------------------------------------------------------------
    S("retry_side_effect_happens_once", R("POST", "/Flaky/{key}/attempt"), R("POST", "/Flaky/{key}/effects")),
    S(
        "retry_via_send_then_attach",
        R("POST", "/Flaky/{key}/attempt/send"),
        R("GET", "/restate/invocation/{id0}/attach", wait=1.0),
        R("POST", "/Flaky/{key}/effects"),
    ),
    # --- admin (only when restate_lab serves it) ---------------------------------------------
    S("admin_health_and_unknown", R("GET", "/health", admin=True), R("GET", "/nope", admin=True)),
    S(
        "admin_services",
        R("GET", "/services", admin=True, sort=True),
        R("GET", "/services/Greeter", admin=True, sort=True),
        R("GET", "/services/Nope", admin=True),
    ),
    S(
        "admin_handlers",
        R("GET", "/services/Greeter/handlers", admin=True, sort=True),
        R("GET", "/services/Greeter/handlers/greet", admin=True),
        R("GET", "/services/Greeter/handlers/secret", admin=True),
        R("GET", "/services/Greeter/handlers/nope", admin=True),
        R("GET", "/services/Counter/handlers/get", admin=True),
        R("GET", "/services/Signup/handlers/run", admin=True),
    ),
    S("admin_openapi_service", R("GET", "/services/Greeter/openapi", admin=True, openapi=True)),
    S("admin_openapi_object", R("GET", "/services/Counter/openapi", admin=True, openapi=True)),
    S(
        "admin_openapi_workflow",
        R("GET", "/services/Signup/openapi", admin=True, openapi=True),
        R("GET", "/services/Nope/openapi", admin=True),
    ),
    S(
        "admin_cancel_running",
        R("POST", "/Greeter/slow/send", 5),
        R("PATCH", "/invocations/{id0}/cancel", admin=True, wait=0.2),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
    ),
    S(
        "admin_kill_running",
        R("POST", "/Counter/{key}/hold/send", 5),
        R("PATCH", "/invocations/{id0}/kill", admin=True, wait=0.2),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
    ),
    S(
        "admin_cancel_inboxed",
        R("POST", "/Counter/{key}/hold/send", 2),
        R("POST", "/Counter/{key}/add/send", 1),
        R("PATCH", "/invocations/{id1}/cancel", admin=True, wait=0.5),
        R("GET", "/restate/invocation/{id1}/output"),
    ),
    S(
        "admin_cancel_scheduled",
        R("POST", "/Greeter/greet/send?delay=5s", "later"),
        R("PATCH", "/invocations/{id0}/cancel", admin=True, wait=0.2),
        R("GET", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.2),
    ),
    S(
        "admin_completed_cancel_and_purge",
        R("POST", "/Greeter/greet", "P"),
        R("PATCH", "/invocations/{id0}/cancel", admin=True),
        R("PATCH", "/invocations/{id0}/kill", admin=True),
        R("PATCH", "/invocations/{id0}/purge", admin=True),
        R("GET", "/restate/invocation/{id0}/output"),
    ),
    S(
        "admin_purge_frees_idempotency_key",
        R("POST", "/Greeter/greet", "A", headers={"idempotency-key": "{key}"}),
        R("PATCH", "/invocations/{id0}/purge", admin=True),
        R("POST", "/Greeter/greet", "B", headers={"idempotency-key": "{key}"}),
    ),
    # --- issue 13: the whole request surface (classes found by tests/fidelity) --------------------
    S(
        "v17_wrong_methods_are_405",
        R("PUT", "/restate/call/Greeter/greet", "x"),
        R("DELETE", "/restate/send/Greeter/greet", "x"),
        R("PATCH", "/restate/call/Counter/{key}/add", 1),
        R("HEAD", "/restate/send/Greeter/greet", "x"),
        R("POST", "/restate/health"),
        R("PUT", "/restate/health/x"),
        R("POST", "/Counter/{key}/get"),
        note="Wrong methods are refused before anything runs; a private handler's 400 comes first.",
    ),
    S(
        "method_checked_after_handler",
        R("DELETE", "/Greeter/secret/send", "x"),
        R("PUT", "/Greeter/nope", "x"),
        R("PUT", "/Signup/{key}/run/send", "x", headers={"idempotency-key": "k"}),
    ),
    S(
        "cors_on_every_answer",
        R("POST", "/Greeter/greet", "Ada", headers={"origin": "http://example.com"}),
        R("POST", "/Nope/greet", "x", headers={"origin": "http://example.com"}),
        R("GET", "/restate/invocation/inv_1abc/output", headers={"origin": "http://example.com"}),
        R(
            "OPTIONS",
            "/restate/health",
            headers={
                "origin": "http://a.b",
                "access-control-request-method": "GET",
                "access-control-request-headers": "x-a, x-b",
            },
        ),
        R("OPTIONS", "/anything/at/all"),
    ),
    S(
        "path_outer_slashes_ignored",
        R("POST", "//Greeter/greet", "a"),
        R("POST", "/Greeter/greet//", "b"),
        R("GET", "///restate/health//", sort=True),
        R("POST", "//restate/call/Counter/{key}/add/", 1),
        R("POST", "/Greeter//greet", "c"),
        R("POST", "/a/b/c/d/e/f/g/h", "d"),
    ),
    S(
        "path_only_keys_percent_decoded",
        R("POST", "/Gr%65eter/greet", "a"),
        R("POST", "/Greeter/gr%65et", "b"),
        R("POST", "/Counter/{key}%20x/add", 2),
        R("POST", "/Counter/{key}%20x/get"),
        R("POST", "/restate/invocation/Counter/{key}%20x/add/nokey/output"),
        R("POST", "/Counter/%zz/get"),
    ),
    S(
        "path_invalid_utf8_key",
        R("POST", "/Counter/%FF/get"),
        R("GET", "/restate/workflow/Signup/a%C3/output"),
        R("POST", "/restate/scope//call/Greeter/greet", "x"),
        R("POST", "/restate/scope//call/Greeter//greet", "x"),
    ),
    S(
        "content_type_matching_case_sensitive",
        R("POST", "/Greeter/greet", raw=b'"A"', headers={"content-type": "APPLICATION/JSON"}),
        R("POST", "/Greeter/greet", raw=b'"A"', headers={"content-type": "application/JSON; charset=utf-8"}),
        R("POST", "/Greeter/greet", raw=b'"A"', headers={"content-type": ""}),
        R("POST", "/Greeter/greet", headers={"content-type": ""}),
    ),
    S(
        "content_type_subtype_wildcard",
        R("POST", "/Greeter/text", raw=b"hi", headers={"content-type": "text/html"}),
        R("POST", "/Greeter/text", raw=b"hi", headers={"content-type": "text/"}),
        R("POST", "/Greeter/text", raw=b"hi", headers={"content-type": "TEXT/plain"}),
        R("POST", "/Greeter/text", raw=b"hi", headers={"content-type": "text"}),
    ),
    S(
        "no_input_handler_refuses_content_type_without_body",
        R("POST", "/Greeter/no_input", headers={"content-type": "application/json"}),
        R("POST", "/Greeter/no_input", headers={"content-type": ""}),
    ),
    S(
        "handler_headers_as_restate_passes_them",
        R(
            "POST",
            "/Greeter/all_headers?foo=bar&delay_ms=1",
            {"n": 1},
            headers={"idempotency-key": "{key}", "te": "trailers", "x-custom": "v"},
        ),
    ),
    S(
        "terminal_error_any_status_code",
        R("POST", "/Greeter/fail_with", 204),
        R("POST", "/Greeter/fail_with", 304),
        R("POST", "/Greeter/fail_with", 301),
        R("POST", "/Greeter/fail_with", 600),
        R("POST", "/Greeter/fail_with", 999),
        R("POST", "/Greeter/fail_with", 1000),
        R("POST", "/Greeter/fail_with", 150),
        R("POST", "/Greeter/fail_with", 200),
    ),
    S(
        "send_delay_jiff_accepts",
        R("POST", "/Greeter/greet/send?delay=0", "a"),
        R("POST", "/Greeter/greet/send?delay=-0s", "b"),
        R("POST", "/Greeter/greet/send?delay=1,5s", "c"),
        R("POST", "/Greeter/greet/send?delay=P1W", "d"),
        R("POST", "/Greeter/greet/send?delay=1000000d", "e"),
        R("POST", "/Greeter/greet/send?delay=1:02:03", "f"),
        R("POST", "/Greeter/greet/send?delay=1h%2C%202m", "g"),
    ),
    S(
        "send_delay_jiff_refuses",
        R("POST", "/Greeter/greet/send?delay=%201s", "a"),
        R("POST", "/Greeter/greet/send?delay=1h,2m", "b"),
        R("POST", "/Greeter/greet/send?delay=1.5d", "c"),
        R("POST", "/Greeter/greet/send?delay=1y", "d"),
        R("POST", "/Greeter/greet/send?delay=1s%20ago", "e"),
        R("POST", "/Greeter/greet/send?delay=5s5s", "f"),
        R("POST", "/Greeter/greet/send?delay=PT1M1H", "g"),
        R("POST", "/Greeter/greet/send?delay=1mon", "h"),
        R("POST", "/Greeter/greet/send?delay=P1.5D", "i"),
        R("POST", "/Greeter/greet/send?delay=-007y", "j"),
    ),
    S(
        "send_delay_parameter_name_case_insensitive",
        R("POST", "/Greeter/greet/send?DELAY=1s", "a"),
        R("POST", "/Greeter/greet/send?Delay=abc", "b"),
        R("POST", "/Greeter/greet/send?delay=1s&delay=abc", "c"),
        R("POST", "/Greeter/greet?DeLaY=1s", "d"),
    ),
    S(
        "idempotency_delayed_repeat_keeps_execution_time",
        R("POST", "/Greeter/greet/send?delay=2s", "d", headers={"idempotency-key": "{key}"}),
        R("POST", "/Greeter/greet/send", "d", headers={"idempotency-key": "{key}"}),
    ),
    S(
        "lookup_unknown_service_computes_id",
        R(
            "POST",
            "/restate/lookup",
            {"target": "idempotentInvocation", "service": "Nope", "handler": "x", "idempotencyKey": "{key}"},
        ),
    ),
    S(
        "admin_patch_service",
        R("PATCH", "/services/Greeter", {}, admin=True, sort=True),
        R("PATCH", "/services/Greeter", {"public": "x"}, admin=True),
        R("PATCH", "/services/Greeter", {"idempotency_retention": "bogus"}, admin=True),
        R("PATCH", "/services/Greeter", {"journal_retention": 5}, admin=True),
        R("PATCH", "/services/Greeter", {"workflow_completion_retention": "1h"}, admin=True),
        R("PATCH", "/services/Nope", {}, admin=True),
        R("PATCH", "/services/Greeter", raw=b"{}", admin=True),
        R("PUT", "/services/Greeter", {}, admin=True),
    ),
    S(
        "admin_set_object_state",
        R("POST", "/services/Counter/state", {"object_key": "{key}", "new_state": {"count": [52, 50]}}, admin=True),
        R("POST", "/Counter/{key}/get", wait=0.5),
        R("POST", "/services/Counter/state", {"new_state": {}}, admin=True),
        R("POST", "/services/Counter/state", {"object_key": {"a": 1}, "new_state": {"count": [256]}}, admin=True),
        R("POST", "/services/Counter/state", {"object_key": "k", "new_state": {"count": [1, 256]}}, admin=True),
        R("POST", "/services/Greeter/state", {"object_key": "k", "new_state": {}}, admin=True),
        R("GET", "/services/Counter/state", admin=True),
    ),
    S(
        "awakeable_promise_id_spellings",
        R("POST", "/restate/a/prom_1abc/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_1" + "0" * 39 + "/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_1" + "0" * 38 + "/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_1" + "z" * 39 + "/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_1" + "0" * 33 + "/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_2abc/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_1" + "A" * 36 + "==/resolve", raw=b"1"),
        R("POST", "/restate/a/prom_1" + "A" * 38 + "/resolve", raw=b"1"),
    ),
    S(
        "admin_set_object_state_from_strings",
        R("POST", "/services/Counter/state", {"object_key": "{key}", "new_state": {"count": "42"}}, admin=True),
        R("POST", "/Counter/{key}/get", wait=0.5),
        R(
            "POST",
            "/services/Counter/state",
            {"object_key": "{key}", "new_state": {"count": "7", "n": [49]}},
            admin=True,
        ),
        R("POST", "/Counter/{key}/get", wait=0.5),
        R("POST", "/services/Counter/state", {"object_key": "{key}", "new_state": {"count": 5}}, admin=True),
        R("POST", "/services/Counter/state", {"object_key": "{key}", "new_state": {"count": None}}, admin=True),
        R("POST", "/services/Counter/state", {"object_key": "{key}", "new_state": {"count": {"a": 1}}}, admin=True),
    ),
    S(
        "admin_edit_deployment",
        R("PUT", "/deployments/dp_10000000000000000000000", {"uri": "http://127.0.0.1:1"}, admin=True),
        R("PATCH", "/deployments/dp_10000000000000000000000", {"uri": "http://127.0.0.1:1"}, admin=True),
        R("PATCH", "/deployments/xyz", {"uri": "http://127.0.0.1:1"}, admin=True),
        R("POST", "/deployments/dp_10000000000000000000000", {}, admin=True),
    ),
    S(
        "admin_register_bad_requests",
        R("POST", "/deployments", {"uri": "http://[::1"}, admin=True),
        R("POST", "/deployments", {"uri": "http://127.0.0.1:1", "additional_headers": {"a": 1}}, admin=True),
        R("POST", "/deployments", {"uri": "http://127.0.0.1:1", "use_http_11": "x"}, admin=True),
    ),
    S("admin_root", R("GET", "/", admin=True), R("POST", "/", admin=True)),
    S(
        "admin_invocation_id_errors",
        R("PATCH", "/invocations/not-an-id/cancel", admin=True),
        R("POST", "/Greeter/slow/send", 0.5),
        R("PATCH", "/invocations/{id1}/purge", admin=True),
        R("GET", "/invocations/{id1}/cancel", admin=True),
    ),
]


# --- runtime fidelity (issue 13, items 10-13): real restate-sdk handlers, answers over HTTP --------------
_QUERY_HEADERS = {"accept": "application/json"}
RUNTIME_FIDELITY_SCENARIOS: list[Scenario] = [
    S(
        "rt_run_max_attempts",
        R("POST", "/RtProbe/{key}/run_attempts", 3),
        R("POST", "/RtProbe/{key}/runs", "run_attempts"),
        note="ctx.run gives up with a TerminalError after max_attempts attempts of the action",
    ),
    S(
        "rt_run_max_duration",
        R("POST", "/RtProbe/{key}/run_duration", 300),
        R("GET", "/restate/invocation/{id0}/output"),
        note="ctx.run gives up once max_duration is spent: the SDK needs the time since the journal last grew",
    ),
    S(
        "rt_workflow_call_twice",
        R("POST", "/RtProbe/{key}/workflow_twice", "wf-{key}"),
        note="a handler's second call to a workflow run on one id is refused with 409",
    ),
    S(
        "rt_workflow_send_twice",
        R("POST", "/RtProbe/{key}/workflow_send_twice", "wf-{key}"),
        R("GET", "/restate/workflow/OnceFlow/wf-{key}/output"),
        note="sends to an existing workflow id are accepted; a call after them is refused with 409",
    ),
    S(
        "rt_terminal_metadata",
        R("POST", "/RtProbe/{key}/fail_with_metadata"),
        R("GET", "/restate/invocation/{id0}/output"),
        R("GET", "/restate/invocation/{id0}/attach"),
        note="TerminalError metadata in the HTTP answer, also when read back by output and attach",
    ),
    S(
        "rt_terminal_metadata_to_caller",
        R("POST", "/RtProbe/{key}/call_failing"),
        note="a calling handler's TerminalError carries the callee's metadata",
    ),
    S(
        "rt_code_runs_once_around_call",
        R("POST", "/RtProbe/{key}/count_around_call"),
        note="a bidirectional attempt keeps running across an awaited call: non-journaled code runs once",
    ),
    S(
        "rt_waiting_handler_is_running",
        R("POST", "/Counter/{key}/wait_awakeable/send"),
        R(
            "POST",
            "/query",
            {"query": "SELECT status FROM sys_invocation WHERE id = '{id0}'"},
            admin=True,
            headers=_QUERY_HEADERS,
            wait=0.4,
        ),
        R("POST", "/Counter/{key}/awakeable", capture_awk=True),
        R("POST", "/restate/awakeables/{awk}/resolve", {"ok": True}),
        R("GET", "/restate/invocation/{id0}/attach", wait=0.3),
        note="sys_invocation says running while the stream is open, not suspended",
    ),
]
SCENARIOS += RUNTIME_FIDELITY_SCENARIOS


# --- admin restart-as-new (issue 13, item 8): every status an invocation can be in ----------------------
_RAN = "/restart-as-new"


def _restart(inv: str, query: str = "", **kw: Any) -> Req:
    return R("PATCH", f"/invocations/{inv}{_RAN}{query}", admin=True, **kw)


def _query(sql: str, **kw: Any) -> Req:
    return R("POST", "/query", {"query": sql}, admin=True, headers=_QUERY_HEADERS, **kw)


#: An ingress invocation without a key shows a generated (random) one: compare only whether there is one.
_ROW = (
    "SELECT id, status, invoked_by, restarted_from, idempotency_key IS NULL AS keyless, completion_result "
    "FROM sys_invocation"
)
RESTART_SCENARIOS: list[Scenario] = [
    S(
        "restart_from_a_prefix_with_a_completed_sleep",
        R("POST", "/Greeter/slow", 0.05),
        _restart("{id0}", "?from=3&deployment=latest"),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
    ),
    S(
        "restart_completed_service_runs_again",
        R("POST", "/Greeter/greet", "Ada"),
        _restart("{id0}"),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
        R("GET", "/restate/invocation/{id0}/output"),
        _restart("{id0}"),
        _restart("{id1}"),
        R("GET", "/restate/invocation/{id5}/attach", wait=0.3),
        _query(f"{_ROW} WHERE id IN ('{{id0}}', '{{id1}}', '{{id5}}') ORDER BY created_at"),
        note="200 with a new id each time; the original keeps its output; a restarted one restarts too",
    ),
    S(
        "restart_completed_failure",
        R("POST", "/Greeter/terminal"),
        _restart("{id0}"),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
        R("GET", "/restate/invocation/{id0}/output"),
    ),
    S(
        "restart_idempotent_invocation_drops_the_key",
        R("POST", "/Greeter/greet", "Ida", headers={"idempotency-key": "{key}"}),
        _restart("{id0}"),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
        R("POST", "/Greeter/greet/send", "Ida", headers={"idempotency-key": "{key}"}),
        R("GET", "/restate/invocation/Greeter/greet/{key}/output"),
        _query(f"{_ROW} WHERE id IN ('{{id0}}', '{{id1}}') ORDER BY created_at"),
        note="the new invocation has no idempotency key; the key still names the original",
    ),
    S(
        "restart_object_handler_runs_again_on_its_key",
        R("POST", "/Counter/{key}/add", 5),
        _restart("{id0}"),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
        R("POST", "/Counter/{key}/get"),
    ),
    S(
        "restart_workflow_refused",
        R("POST", "/OnceFlow/{key}/once_run", "w"),
        _restart("{id0}"),
        _restart("{id0}", "?from=100&deployment=dp_10000000000000000000000"),
        R("POST", "/Signup/{key}/status"),
        _restart("{id3}"),
        R("POST", "/Signup/{key}/run/send", "w"),
        _restart("{id5}", wait=0.3),
        R("POST", "/Signup/{key}/approve", "x"),
        _restart("{id5}", wait=0.3),
        note="422 for any workflow handler once completed; 409 while the run is running",
    ),
    S(
        "restart_running_refused",
        R("POST", "/Greeter/slow/send", 3),
        _restart("{id0}", wait=0.3),
        _restart("{id0}", "?from=100"),
        _restart("{id0}", "?from=1&deployment=dp_10000000000000000000000"),
        R("PATCH", "/invocations/{id0}/kill", admin=True),
    ),
    S(
        "restart_suspended_refused",
        R("POST", "/Stuck/{key}/nap/send", 5),
        _query("SELECT status FROM sys_invocation WHERE id = '{id0}'", wait=1.5),
        _restart("{id0}"),
        R("PATCH", "/invocations/{id0}/kill", admin=True),
    ),
    S(
        "restart_backing_off_refused_then_killed_restarts",
        R("POST", "/Stuck/{key}/fail_slowly/send"),
        _query("SELECT status FROM sys_invocation WHERE id = '{id0}'", wait=0.5),
        _restart("{id0}"),
        R("PATCH", "/invocations/{id0}/kill", admin=True),
        _restart("{id0}"),
        _query("SELECT status, invoked_by, restarted_from FROM sys_invocation WHERE id = '{id4}'", wait=0.5),
        R("PATCH", "/invocations/{id4}/kill", admin=True),
    ),
    S(
        "restart_paused_refused",
        R("POST", "/Stuck/{key}/fail_then_pause/send"),
        _query("SELECT status FROM sys_invocation WHERE id = '{id0}'", wait=0.5),
        _restart("{id0}"),
        _restart("{id0}", "?from=0"),
        R("PATCH", "/invocations/{id0}/kill", admin=True),
    ),
    S(
        "restart_not_started_too_early",
        R("POST", "/Greeter/greet/send?delay=10s", "later"),
        _restart("{id0}"),
        R("PATCH", "/invocations/{id0}/cancel", admin=True),
        R("POST", "/Counter/{key}/hold/send", 1),
        R("POST", "/Counter/{key}/add/send", 1),
        _restart("{id4}", wait=0.2),
        _restart("{id3}"),
        R("POST", "/Signup/{key}/run/send?delay=10s", "w"),
        _restart("{id7}"),
        R("PATCH", "/invocations/{id7}/cancel", admin=True),
        R("GET", "/restate/invocation/{id4}/attach", wait=0.3),
        note="scheduled and inboxed invocations (workflows too) are 425; the key's holder is still running",
    ),
    S(
        "restart_killed_and_cancelled_run_again",
        R("POST", "/Counter/{key}/hold/send", 5),
        R("PATCH", "/invocations/{id0}/kill", admin=True, wait=0.3),
        _restart("{id0}", wait=0.2),
        _query("SELECT status, invoked_by, restarted_from FROM sys_invocation WHERE id = '{id2}'", wait=0.3),
        R("PATCH", "/invocations/{id2}/kill", admin=True),
        R("POST", "/Greeter/slow/send", 5),
        R("PATCH", "/invocations/{id5}/cancel", admin=True, wait=0.3),
        R("GET", "/restate/invocation/{id5}/attach", wait=0.3),
        _restart("{id5}"),
        R("PATCH", "/invocations/{id8}/cancel", admin=True, wait=0.3),
        R("GET", "/restate/invocation/{id8}/attach", wait=0.3),
    ),
    S(
        "restart_ids_unknown_malformed_purged",
        _restart("inv_1abc"),
        _restart("not-an-id"),
        _restart("inv_10000000000000000000000000000000000000"),
        _restart("inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz"),
        _restart(""),
        _restart("%20"),
        R("POST", "/Greeter/greet", "P"),
        R("PATCH", "/invocations/{id6}/purge", admin=True),
        _restart("{id6}"),
    ),
    S(
        "restart_journal_purged_is_gone",
        R("POST", "/Greeter/greet", "J"),
        R("PATCH", "/invocations/{id0}/purge-journal", admin=True),
        _restart("{id0}"),
        _restart("{id0}", "?from=1&deployment=dp_10000000000000000000000"),
        _restart("{id0}", "?from=1&deployment=garbage"),
        R("GET", "/restate/invocation/{id0}/output"),
    ),
    S(
        "restart_from_keeps_the_journal_prefix",
        R("POST", "/Counter/{key}/add", 1),
        _restart("{id0}", "?from=0"),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
        _restart("{id0}", "?from=1"),
        R("GET", "/restate/invocation/{id3}/attach", wait=0.3),
        _restart("{id0}", "?from=2"),
        R("GET", "/restate/invocation/{id5}/attach", wait=0.3),
        _restart("{id0}", "?from=3"),
        R("GET", "/restate/invocation/{id7}/attach", wait=0.3),
        _restart("{id0}", "?from=4"),
        R("POST", "/Counter/{key}/get"),
        _query("SELECT index, entry_type FROM sys_journal WHERE id = '{id5}' ORDER BY index"),
        note="from=N replays entries 0..N (a copied GetEagerState answers its old value); N past the end is 400",
    ),
    S(
        "restart_from_needs_completed_commands",
        R("POST", "/Greeter/slow", 0.2),
        _restart("{id0}", "?from=1"),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
        _restart("{id0}", "?from=2"),
        R("GET", "/restate/invocation/{id3}/attach", wait=0.3),
        _restart("{id0}", "?from=4"),
        R("POST", "/Counter/{key}/hold/send", 5),
        R("PATCH", "/invocations/{id6}/kill", admin=True, wait=0.3),
        _restart("{id6}", "?from=1", wait=0.2),
        _restart("{id6}", "?from=0"),
        R("PATCH", "/invocations/{id9}/kill", admin=True, wait=0.2),
        note="a sleep's completion is copied with it; a killed sleep without one makes from=1 a 400",
    ),
    S(
        "restart_query_parameters",
        R("POST", "/Greeter/greet", "Q"),
        *(
            _restart("{id0}", "?" + q)
            for q in (
                "from=-1",
                "from=abc",
                "from=",
                "from",
                "from=4294967296",
                "from=+1",
                "from=%201",
                "from=1.0",
                "from=1&from=2",
                "from=1&from=abc",
                "from=abc&from=1",
                "FROM=100",
                "from=01",
                "x=1",
                "deployment=Latest",
                "deployment=latest",
                "deployment=Keep",
                "from=1&deployment=keep",
                "from=0&deployment=Latest",
                "deployment=LATEST",
                "deployment=garbage",
                "deployment=",
                "deployment",
                "from=1&deployment=Id",
                "from=1&deployment=dp_1",
                "from=1&deployment=xy_10000000000000000000000",
                "from=1&deployment=inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz",
                "from=1&deployment=dp_10000000000000000000000",
                "from=1&deployment=latest&deployment=keep",
                "from=1&DEPLOYMENT=garbage",
                "from=abc&deployment=garbage",
            )
        ),
    ),
    S(
        "restart_error_order",
        _restart("not-an-id", "?from=abc"),
        _restart("not-an-id", "?from=1&deployment=garbage"),
        _restart("inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz", "?from=1&deployment=garbage"),
        _restart("inv_1gdJBtdVEcM942bjcDmb1c1khoaJe11Hbz", "?from=1&deployment=dp_10000000000000000000000"),
        R("POST", "/Greeter/greet", "K"),
        _restart("{id4}", "?from=100&deployment=dp_10000000000000000000000"),
        _restart("{id4}", "?deployment=garbage&from=0"),
    ),
    S(
        "restart_methods_paths_bodies",
        R("POST", "/Greeter/greet", "M"),
        R("GET", "/invocations/{id0}/restart-as-new", admin=True),
        R("POST", "/invocations/{id0}/restart-as-new", admin=True),
        R("PUT", "/invocations/{id0}/restart-as-new", admin=True),
        R("DELETE", "/invocations/{id0}/restart-as-new", admin=True),
        R("HEAD", "/invocations/{id0}/restart-as-new", admin=True),
        _restart("{id0}", raw=b"{", headers={"content-type": "application/json"}),
        _restart("{id0}", json={"from": 100}),
        _restart("{id0}", raw=b"xx", headers={"content-type": "text/plain"}),
        R("PATCH", "/invocations/{id0}/restart-as-new/", admin=True),
        R("PATCH", "/invocations/{id0}/restart-as-new/x", admin=True),
        R("PATCH", "/invocations/{id0}/Restart-As-New", admin=True),
        _restart("{id0}", headers={"origin": "http://example.com", "accept-encoding": "gzip"}),
    ),
    S(
        "restart_delayed_send_after_it_ran",
        R("POST", "/Greeter/greet/send?delay=100ms", "later"),
        _restart("{id0}", wait=0.6),
        R("GET", "/restate/invocation/{id1}/attach", wait=0.3),
        _query("SELECT scheduled_at, invoked_by FROM sys_invocation WHERE id = '{id1}'"),
    ),
]
SCENARIOS += RESTART_SCENARIOS
