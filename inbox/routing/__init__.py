"""Routing and capacity (issue 15): teams and their rules (teams.py), who may hold how
many threads (capacity.py). The pure matching is inbox.rules.routing."""
