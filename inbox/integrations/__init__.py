"""Twelp in a company's other systems: the REST API's tokens (tokens.py) and outbound
webhooks. Actions layer: views (inbox.views.integrations, inbox.api) call these."""
