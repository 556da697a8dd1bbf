"""What Twelp owes the people whose data it holds (issue 19): the audit's chain checked
(audit), a customer's export and erasure (erasure), retention (retention) and X's
compliance results applied (compliance). Writes go through inbox.events and the actions."""
