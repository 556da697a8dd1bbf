"""Who may use what: every URL of the project × every persona, with the status each gets.

The URLs come from the URL conf itself (get_resolver(), walked recursively), so a new URL
without a row in STATUS fails `test_every_url_has_a_row`: add yours, with a reason if
it is not obvious. Each cell runs in its own test (its own database state), so a POST
that succeeds for one persona cannot change what the next one sees.

Personas (tests/conftest.py): anonymous; a pending registration; an agent; a second
agent; a supervisor; an admin (role admin: an employee, not Django staff); and a
deactivated employee whose Django user is still active, so the decorator's own check is
what refuses them (the real deactivation also turns the login off: tests/agents/
test_deactivate.py).

Another brand's employees against this brand's objects (404 on every URL naming one):
tests/test_cross_brand.py, from the same resolver walk and these rows.

The Django admin (/django-admin/) is for operators (superusers), not for employees: every
route of it answers every persona with a redirect to its login page (its `admin_view`
wrapper), except its login page itself; ADMIN_SITE covers all its routes, so registering
a model there needs no row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

PERSONAS = (
    "anonymous",
    "pending",
    "agent",
    "second_agent",
    "supervisor",
    "admin_agent",
    "deactivated",
)

API_401 = (401, 401, 401, 401, 401, 401, 401)
API_405 = (405, 405, 405, 405, 405, 405, 405)

# key (URL name, or route for unnamed ones): {method: statuses in PERSONAS order}
#                                anon  pend  agent agent2 sup  admin deact
STATUS: dict[str, dict[str, tuple[int, ...]]] = {
    # Django's auth views. A logged-in visitor of the login page goes to the queue.
    "login": {
        "GET": (200, 302, 302, 302, 302, 302, 302),
        "POST": (200, 302, 302, 302, 302, 302, 302),  # anonymous: the form with its errors
    },
    "logout": {
        "GET": (405, 405, 405, 405, 405, 405, 405),  # POST only: a link cannot log you out
        "POST": (302, 302, 302, 302, 302, 302, 302),
    },
    # The second factor (agents.twofactor): employees who must pass it (supervisors and
    # admins; here already verified by the login fixture) go on to the queue; an agent
    # without it is sent to "/" too; the setup page serves every active employee.
    "two_factor_verify": {
        "GET": (302, 403, 302, 302, 302, 302, 403),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "two_factor_setup": {
        "GET": (302, 403, 200, 200, 200, 200, 403),
        "POST": (302, 403, 200, 200, 200, 200, 403),  # empty form: errors
    },
    # Security keys and passkeys (django-otp-webauthn's JSON views as Twelp's): an active
    # employee, refused with the library's JSON 403 otherwise (before the method is looked
    # at, so GET too). Adding a key: after the app and the second factor (supervisors and
    # admins here; agents have no app: 403); completing one never begun: 400. Checking a
    # key: only who has one (nobody here: 403). The script's translations: anyone.
    "otp_webauthn:credential-registration-begin": {
        "GET": (403, 403, 403, 403, 405, 405, 403),
        "POST": (403, 403, 403, 403, 200, 200, 403),
    },
    "otp_webauthn:credential-registration-complete": {
        "GET": (403, 403, 403, 403, 405, 405, 403),
        "POST": (403, 403, 403, 403, 400, 400, 403),
    },
    "otp_webauthn:credential-authentication-begin": {
        "GET": (403, 403, 403, 403, 403, 403, 403),
        "POST": (403, 403, 403, 403, 403, 403, 403),
    },
    "otp_webauthn:credential-authentication-complete": {
        "GET": (403, 403, 403, 403, 403, 403, 403),
        "POST": (403, 403, 403, 403, 403, 403, 403),
    },
    "otp_webauthn:js-i18n-catalog": {"GET": (200,) * 7, "POST": (405,) * 7},
    "healthz": {"GET": (200, 200, 200, 200, 200, 200, 200)},  # load balancers: anyone
    # The scripts' words (issue 21): anyone, the login page's scripts too.
    "javascript_catalog": {
        "GET": (200, 200, 200, 200, 200, 200, 200),
        "POST": (405, 405, 405, 405, 405, 405, 405),
    },
    # Browsers' CSP violation reports: anyone (the login page has a policy too); an empty
    # POST is no report (tests/test_csp.py posts real ones).
    "csp_report": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (400, 400, 400, 400, 400, 400, 400),
    },
    # The push process's event stream (inbox.views.push): active employees, refused with a
    # plain 403 (an EventSource cannot follow a redirect to the login page); its probe: anyone.
    # The employees get 204 here, from this in-process (WSGI) client: streams are the ASGI
    # push process's (tests/inbox/test_push.py), a WSGI server would only buffer them.
    "push_events": {
        "GET": (403, 403, 204, 204, 204, 204, 403),
        "POST": (405, 405, 405, 405, 405, 405, 405),
    },
    "push_healthz": {"GET": (200, 200, 200, 200, 200, 200, 200)},
    # Self-registration: anyone not logged in; the logged-in go to the queue.
    "register": {
        "GET": (200, 302, 302, 302, 302, 302, 302),
        "POST": (200, 302, 302, 302, 302, 302, 302),
    },
    # Sign in with X (agents.xlink): anyone not logged in starts it (to X's consent page);
    # the logged-in go to the queue. X's callback without a flow this session started is
    # refused (400) for everyone; an active employee proves a changed handle.
    "register_x": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 302, 302, 302, 302, 302, 302),
    },
    "x_callback": {
        "GET": (400, 400, 400, 400, 400, 400, 400),
        "POST": (405, 405, 405, 405, 405, 405, 405),
    },
    # Single sign-on (agents.sso): anyone not logged in starts it (to the provider's sign-in
    # page); the logged-in go to the queue. A callback without a flow this session started
    # is refused (400) for everyone. GET only: the provider redirects the browser here.
    "oidc_authentication_init": {
        "GET": (302, 302, 302, 302, 302, 302, 302),
        "POST": (405, 405, 405, 405, 405, 405, 405),
    },
    "oidc_authentication_callback": {
        "GET": (400, 400, 400, 400, 400, 400, 400),
        "POST": (405, 405, 405, 405, 405, 405, 405),
    },
    # Password reset by e-mail: anyone (it never says whether an address exists).
    "password_reset": {
        "GET": (200, 200, 200, 200, 200, 200, 200),
        "POST": (200, 200, 200, 200, 200, 200, 200),  # empty form: errors
    },
    "password_reset_done": {"GET": (200, 200, 200, 200, 200, 200, 200)},
    "password_reset_confirm": {"GET": (200, 200, 200, 200, 200, 200, 200)},  # "link invalid"
    "password_reset_complete": {"GET": (200, 200, 200, 200, 200, 200, 200)},
    # The first run (agents.bootstrap): a one-time link; an unknown token is a 404 for all.
    "setup": {
        "GET": (404, 404, 404, 404, 404, 404, 404),
        "POST": (404, 404, 404, 404, 404, 404, 404),
    },
    # The team pages: supervisors approve; admins manage employees.
    "agents:team": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "agents:approve": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "agents:reject": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    # Training mode: supervisors send agents to training and mark them ready; only a
    # trainee (an Agent of a training brand) may bring practice customers.
    "agents:training": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "agents:start_training": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "agents:mark_ready": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),  # not a trainee: told so, redirected
    },
    # A trainee's practice, read-only: supervisors of the live brand (the sample agent is no
    # trainee: 404, as for any employee not in training).
    "agents:practice_review": {
        "GET": (302, 403, 403, 403, 404, 404, 403),
        "POST": (405, 405, 405, 405, 405, 405, 405),
    },
    "agents:practice": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 403, 403),  # live employees: 403 (trainees only)
    },
    "agents:add": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),  # empty form: errors
    },
    "agents:import": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),
    },
    # Two-factor: an employee renews their own recovery codes (not enrolled: a message);
    # admins reset another's (a lost phone).
    "agents:two_factor_codes": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 200, 200, 403),
    },
    "agents:two_factor_reset": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    "agents:x_relink": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "agents:me": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    # Issue 16: switching to another of one's brands (an empty form: a message, 302).
    "agents:switch_brand": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "agents:profile": {"GET": (302, 403, 403, 403, 200, 200, 403)},  # of the agent
    # Issue 16: the agent's brands: supervisors look, admins give or take (an empty form:
    # a message, 302); supervisors' POST is refused.
    "agents:brands": {
        "GET": (302, 403, 403, 403, 200, 200, 403),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    "agents:role": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    "agents:deactivate": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    "agents:reactivate": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),  # the agent is active: a message
    },
    # The inbox: every active employee; the sample thread is open and nobody's.
    "inbox:queue": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:claim_next": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # Issue 15: any active employee sets themselves Available or away (then the queue).
    "inbox:availability": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "inbox:thread": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:search": {"GET": (302, 403, 200, 200, 200, 200, 403)},  # every employee, own brand
    "inbox:context": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:claim": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "inbox:renew": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 200, 200, 200, 200, 403),  # not theirs: "lease lost" fragment
    },
    "inbox:reply": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 200, 200, 200, 200, 403),  # empty form: errors
    },
    # Move a public thread to DM: as answering (empty form: errors).
    "inbox:move_to_dm": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 200, 200, 200, 200, 403),
    },
    # The personal-data check while typing: answers a fragment, changes nothing.
    "inbox:check_reply": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 200, 200, 200, 200, 403),
    },
    # Internal notes: any employee, on any thread of the brand (empty form: a message).
    "inbox:add_note": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # Canned answers: any employee picks them in a thread; supervisors and admins manage.
    "inbox:canned_picker": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:canned_list": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:canned_new": {
        "GET": (302, 403, 403, 403, 200, 200, 403),
        "POST": (302, 403, 403, 403, 200, 200, 403),  # empty form: errors
    },
    "inbox:canned_edit": {
        "GET": (302, 403, 403, 403, 200, 200, 403),
        "POST": (302, 403, 403, 403, 200, 200, 403),  # empty form: errors
    },
    "inbox:canned_delete": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:close": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "inbox:release": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # After the answer: any employee may ask; the action decides (an error message).
    "inbox:follow_up": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "inbox:reopen": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # Collision warnings (inbox.live.viewers): any employee; after the first request the session
    # says who they are, so the next ones cost no SQL.
    "inbox:queue_viewers": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:thread_viewers": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:typing": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 204, 204, 204, 204, 403),
    },
    # Admins: business hours, time zone and auto-reply (inbox.brand_settings).
    "inbox:brand_settings": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),  # empty form: errors
    },
    # Admins: one customer's export or erasure (inbox.data.erasure).
    "inbox:customer_data": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),  # empty form: errors
    },
    # Administration in the app (inbox.views.administration): admins only. Empty forms:
    # errors (200); a quarantined item retried as a DM or discarded: a message (302).
    "inbox:admin_sources": {"GET": (302, 403, 403, 403, 403, 200, 403)},
    "inbox:admin_source_new": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),
    },
    "inbox:admin_source_edit": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),
    },
    "inbox:admin_budget": {"GET": (302, 403, 403, 403, 403, 200, 403)},
    "inbox:admin_rules": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),
    },
    "inbox:admin_quarantine": {"GET": (302, 403, 403, 403, 403, 200, 403)},
    "inbox:admin_quarantine_retry": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    "inbox:admin_quarantine_discard": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    # The brand's own X account (inbox.views.x_account, issue 16): admins only. Empty pasted
    # keys: errors (200); Connect: to X's consent page (302); a callback this session did
    # not start, or Disconnect: a message (302).
    "inbox:admin_x_account": {"GET": (302, 403, 403, 403, 403, 200, 403)},
    "inbox:admin_x_account_keys": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 200, 403),
    },
    "inbox:admin_x_account_connect": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    "inbox:admin_x_account_callback": {"GET": (302, 403, 403, 403, 403, 302, 403)},
    "inbox:admin_x_account_disconnect": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    # Noise (inbox.views.noise): supervisors and admins dismiss in bulk (nothing ticked:
    # a message), manage muted words and blocks and lift mutes; any employee may mute the
    # customer of a thread. The customer panel's tags: any employee (empty tag: a message).
    "inbox:dismiss": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:noise": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:mute_word": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:lift_mute": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:mute_customer": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    "inbox:block_customer": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:customer_tags": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # Supervisors: the dashboard, the audit trail, and acting on stuck work. The sample
    # thread is open (release: "not claimed", a message) and its reply failed (retry works).
    "inbox:dashboard": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:audit": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:audit_csv": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:timeline": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:reassign": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:sup_release": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:retry_reply": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:discard_reply": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    # Teams and routing rules (inbox.views.routing): supervisors and admins. An empty form
    # is refused with a message (302 back to the page); the sample team is not the default.
    "inbox:routing": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:team_new": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:team_delete": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:team_member": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:rule_new": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:agent_languages": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:rule_delete": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    # An employee's own time zone (issue 21): every active employee, for themselves.
    "agents:time_zone": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # An employee's own language (issue 21): every active employee, for themselves.
    "agents:language": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # Notifications in the top bar (issue 21): every active employee, their own only.
    "inbox:notifications": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:notifications_badge": {"GET": (302, 403, 200, 200, 200, 200, 403)},
    "inbox:notifications_read": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 302, 302, 302, 302, 403),
    },
    # Proposed brand tweets: any employee proposes (an empty form: errors); supervisors decide.
    "inbox:proposals": {
        "GET": (302, 403, 200, 200, 200, 200, 403),
        "POST": (302, 403, 200, 200, 200, 200, 403),
    },
    "inbox:proposals_pending": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:approve_proposal": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:reject_proposal": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),  # no reason: the page says why not
    },
    # A failed brand tweet: supervisors retry or discard it, as a failed reply.
    "inbox:retry_tweet": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    "inbox:discard_tweet": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 302, 302, 403),
    },
    # The public answers stream: anyone. /metrics: off (404) while METRICS_TOKEN is unset.
    "stream": {"GET": (200, 200, 200, 200, 200, 200, 200)},
    # The satisfaction survey: anyone holding the link; the sample link is forged: 404,
    # recording nothing (tests/inbox/quality/test_survey.py has genuine ones).
    "survey": {
        "GET": (404, 404, 404, 404, 404, 404, 404),
        "POST": (404, 404, 404, 404, 404, 404, 404),
    },
    "metrics": {"GET": (404, 404, 404, 404, 404, 404, 404)},
    # Admins: API tokens (and webhooks) for other systems (inbox.views.integrations). An
    # empty form: errors; revoking the sample token works.
    "inbox:integrations": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (302, 403, 403, 403, 403, 200, 403),
    },
    "inbox:revoke_token": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    # Webhooks: admins add (an empty form: errors), see deliveries, remove, resume (the
    # sample is not paused: a message).
    "inbox:add_webhook": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 200, 403),
    },
    "inbox:webhook_deliveries": {
        "GET": (302, 403, 403, 403, 403, 200, 403),
        "POST": (405, 405, 405, 405, 405, 405, 405),
    },
    "inbox:remove_webhook": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    "inbox:resume_webhook": {
        "GET": (405, 405, 405, 405, 405, 405, 405),
        "POST": (302, 403, 403, 403, 403, 302, 403),
    },
    # Answer review: supervisors sample and score answers; the sample reply is failed, not
    # posted, so it is no answer to review (404); tests/inbox/views/test_review.py has the rest.
    "inbox:review": {"GET": (302, 403, 403, 403, 200, 200, 403)},
    "inbox:review_answer": {
        "GET": (302, 403, 403, 403, 404, 404, 403),
        "POST": (302, 403, 403, 403, 404, 404, 403),
    },
    # The REST API (inbox.api): a bearer token or nothing; a session is no credential, so
    # every persona gets 401 (tests/inbox/api/ has the tokens' own rows). Its OpenAPI
    # schema: anyone. Methods a path does not take: 405.
    "api-v1:threads": {"GET": API_401, "POST": API_405},
    "api-v1:thread": {"GET": API_401, "POST": API_405},
    "api-v1:customers": {"GET": API_401, "POST": API_405},
    "api-v1:customer": {"GET": API_401, "POST": API_405},
    "api-v1:notes": {"GET": API_405, "POST": API_401},
    "api-v1:tags": {"GET": API_405, "POST": API_401},
    "api-v1:tag": {"GET": API_405, "POST": API_405},  # DELETE only
    "api-v1:events": {"GET": API_401, "POST": API_405},
    "api-v1:satisfaction": {"GET": API_401, "POST": API_405},
    # Issue 20 (search over the API): tests/inbox/api/test_search.py has the tokens' rows.
    "api-v1:search": {"GET": API_401, "POST": API_405},
    # The API's root: django-ninja's "no docs here" (docs_url=None; the schema above).
    "api-v1:api-root": {
        "GET": (404, 404, 404, 404, 404, 404, 404),
        "POST": (404, 404, 404, 404, 404, 404, 404),
    },
    # django-ninja's schema view answers any method with the schema (it changes nothing).
    "api-v1:openapi-json": {
        "GET": (200, 200, 200, 200, 200, 200, 200),
        "POST": (200, 200, 200, 200, 200, 200, 200),
    },
    # The Django admin: its login page, for anyone; everything else, see ADMIN_SITE.
    "admin:login": {"GET": (200, 200, 200, 200, 200, 200, 200)},
    "admin:logout": {"GET": (302, 302, 302, 302, 302, 302, 302)},  # to the admin's index
}
ADMIN_PREFIX = "django-admin/"
ADMIN_SITE = {"GET": (302, 302, 302, 302, 302, 302, 302)}  # to the admin's login page

# What each URL argument stands for, by its name.
SAMPLES = {
    "thread_id": lambda objects: objects["thread"].id,
    "reply_id": lambda objects: objects["reply"].id,
    "canned_id": lambda objects: objects["canned"].id,
    "mute_id": lambda objects: objects["mute"].id,
    "proposal_id": lambda objects: objects["proposal"].id,
    "tweet_id": lambda objects: objects["brand_tweet"].id,
    "agent_id": lambda objects: objects["agent"].id,
    "customer_id": lambda objects: objects["thread"].customer_id,
    "tag": lambda objects: "vip",
    "token_id": lambda objects: objects["api_token"].id,
    "webhook_id": lambda objects: objects["webhook"].id,
    "link": lambda objects: "forged:link:sig",
    "team_id": lambda objects: objects["team"].id,
    "rule_id": lambda objects: objects["rule"].id,
    "source_id": lambda objects: objects["source"].id,
    "quarantine_id": lambda objects: objects["quarantine"].id,
    "uidb64": lambda objects: "MQ",
    "token": lambda objects: "set-password",
    "object_id": lambda objects: "1",
    "content_type_id": lambda objects: "1",
    "id": lambda objects: "1",
    "app_label": lambda objects: "auth",
    "url": lambda objects: "nowhere/",
    "language": lambda objects: "es",
}
# POST bodies, where the view needs one to get past its form.
POST_DATA = {
    "agents:approve": lambda objects: {"ids": objects["pending"].id},
    "agents:reject": lambda objects: {"ids": objects["pending"].id},
    "agents:role": lambda objects: {"role": "supervisor"},
    "inbox:team_member": lambda objects: {"agent": objects["second_agent"].id},
}


@dataclass(frozen=True)
class Route:
    key: str  # the URL name, namespaced; the route itself for an unnamed one
    route: str

    def path(self, objects: dict[str, object]) -> str:
        def sample(match: re.Match[str]) -> str:
            name = match.group(1)
            assert name in SAMPLES, f"Add a sample value for <{name}> to SAMPLES ({self.route})"
            return str(SAMPLES[name](objects))

        path = re.sub(r"<(?:\w+:)?(\w+)>", sample, self.route)  # path() converters
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", sample, path)  # re_path() groups
        return "/" + path.replace("^", "").replace("$", "")

    def expected(self) -> dict[str, tuple[int, ...]]:
        if self.key in STATUS:
            return STATUS[self.key]
        if self.route.startswith(ADMIN_PREFIX):
            return ADMIN_SITE
        return {}


def walk(patterns: list[object], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield Route(f"{namespace}{pattern.name}" if pattern.name else route, route)


def all_routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


def cells() -> list[object]:
    out = []
    for route in all_routes():
        for method, statuses in route.expected().items():
            for persona, status in zip(PERSONAS, statuses, strict=True):
                out.append(
                    pytest.param(
                        route, method, persona, status, id=f"{route.key} {method} {persona}"
                    )
                )
    return out


def test_every_url_has_a_row():
    routes = all_routes()
    missing = [route.key for route in routes if not route.expected()]
    assert missing == [], f"Add these URLs to STATUS in {__name__}: {missing}"
    stale = set(STATUS) - {route.key for route in routes}
    assert stale == set(), f"These rows name no URL any more: {sorted(stale)}"


@pytest.fixture
def objects(brand, agent, second_agent, supervisor, admin_agent, pending, deactivated, customer):
    from inbox.models import (
        BrandTweet,
        CannedAnswer,
        Mute,
        Proposal,
        Quarantine,
        Reply,
        RoutingRule,
        Source,
        Team,
    )
    from tests.helpers import make_thread

    thread = make_thread(brand, customer, 1)
    canned = CannedAnswer.objects.create(brand=brand, title="Thanks", text="Thanks {customer}!")
    reply = Reply.objects.create(
        thread=thread, agent=agent, text="@kim hi", body="@kim hi ^AL", status="failed"
    )
    mute = Mute.objects.create(brand=brand, kind="word", word="giveaway")
    proposal = Proposal.objects.create(
        brand=brand, author=agent, text="Tip: restart it", credit=" ^AL", body="Tip: restart it ^AL"
    )
    approved = Proposal.objects.create(
        brand=brand, author=agent, text="Down", credit=" ^AL", body="Down ^AL", status="approved"
    )
    brand_tweet = BrandTweet.objects.create(
        brand=brand, proposal=approved, body=approved.body, status="failed"
    )
    from inbox.integrations import tokens, webhooks

    api_token = tokens.create_token(actor=admin_agent, name="CRM", scope="read").row
    webhook = webhooks.add_endpoint(
        actor=admin_agent, url="http://127.0.0.1:9/hook", event_types=["closed"]
    )
    team = Team.objects.create(brand=brand, name="Billing")
    rule = RoutingRule.objects.create(brand=brand, kind="keyword", value="refund", team=team)
    dms = Source.objects.create(brand=brand, kind="dms")
    quarantine = Quarantine.objects.create(source=dms, raw={"id": "1"}, error="malformed")
    from inbox import notifications  # issue 21: the agent's list has one unread, one read

    notifications.notify([agent], "mentioned", thread=thread, text="Sue mentioned you.")
    notifications.notify([agent], "reply_failed", thread=thread, text="X refused your reply.")
    notifications.mark_read(agent, [agent.notices.order_by("id").first().id])
    return {
        "source": dms,
        "quarantine": quarantine,
        "team": team,
        "rule": rule,
        "webhook": webhook,
        "api_token": api_token,
        "brand_tweet": brand_tweet,
        "canned": canned,
        "mute": mute,
        "proposal": proposal,
        "reply": reply,
        "agent": agent,
        "second_agent": second_agent,
        "supervisor": supervisor,
        "admin_agent": admin_agent,
        "pending": pending,
        "deactivated": deactivated,
        "thread": thread,
    }


# Anonymous redirects that are not to a login page: the admin's logout (to its index),
# Sign in with X (to X's consent page) and single sign-on (to the provider's page).
ELSEWHERE = {"admin:logout", "register_x", "oidc_authentication_init"}


@pytest.mark.parametrize(("route", "method", "persona", "status"), cells())
def test_access(client: Client, objects, route: Route, method: str, persona: str, status: int):
    if persona != "anonymous":
        client.force_login(objects[persona].user)
    path = route.path(objects)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, POST_DATA.get(route.key, lambda _: {})(objects))
    assert response.status_code == status, f"{method} {path} as {persona}"
    assert "default-src 'self'" in response.get("Content-Security-Policy", ""), path
    if persona == "anonymous" and status == 302 and route.key not in ELSEWHERE:
        assert "/login/" in response["Location"], "anonymous visitors go to a login page"


# The csrf_exempt views: browsers post CSP reports with no token (it only logs and counts);
# the REST API takes a bearer token and never a session cookie, so a forged cross-site
# POST carries no credential (test_a_logged_in_session_is_no_credential).
CSRF_EXEMPT = {"csp_report", "api-v1:notes", "api-v1:tags", "api-v1:tag"}
CSRF_EXEMPT |= {f"api-v1:{name}" for name in ("threads", "thread", "customers", "customer")}
CSRF_EXEMPT |= {"api-v1:events", "api-v1:openapi-json", "api-v1:satisfaction"}
CSRF_EXEMPT |= {"api-v1:search"}  # issue 20: GET only, bearer token


def test_csrf_every_url_refuses_a_post_without_the_token(csrf_client: Client, objects):
    """Every view that changes anything refuses a POST without the CSRF token; so do the
    rest (a POST to a GET-only view), since no other view is csrf_exempt."""
    csrf_client.force_login(objects["admin_agent"].user)
    accepted = []
    for route in all_routes():
        if route.key in CSRF_EXEMPT:
            continue
        response = csrf_client.post(
            route.path(objects), POST_DATA.get(route.key, lambda _: {})(objects)
        )
        if response.status_code != 403 or b"CSRF verification failed" not in response.content:
            accepted.append(f"{route.key} ({response.status_code})")
    assert accepted == []


def test_csrf_the_same_post_with_the_token_gets_through(csrf_client: Client, objects):
    """The control: with the token from the page, the CSRF check passes."""
    csrf_client.force_login(objects["admin_agent"].user)
    csrf_client.get("/team/add/")
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(
        f"/team/{objects['agent'].id}/role/", {"role": "supervisor", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    objects["agent"].refresh_from_db()
    assert objects["agent"].role == "supervisor"
