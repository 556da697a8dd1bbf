"""The REST API, /api/v1/ (django-ninja): what other systems read from Twelp and the few
things they may write. Views layer: it calls reads and actions like any page.

1. Auth is a per-integration bearer token (inbox.integrations.tokens), never a session:
   a logged-in browser gets nothing here, so CSRF cannot apply.
2. Every query is filtered by the token's brand; another brand's object is a 404 problem,
   as a number that names nothing.
3. Read scope reads; write scope also adds notes and tags. Nothing here posts to X, claims,
   answers or closes.
4. Every error is an RFC 9457 problem body (application/problem+json).
5. Each token has its own per-minute budget (THROTTLE_API_PER_MINUTE).
"""
