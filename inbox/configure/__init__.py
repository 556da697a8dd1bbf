"""Administration in the app (admins): the brand's sources with their X budgets, and its
rules (SLA targets, urgent keywords, credit format, employee-id pattern). Each change is
one durable transaction with its Event (inbox.events), as every other action."""
