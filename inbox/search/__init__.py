"""Search over a brand's customers, messages, replies and notes (inbox.search.find), with
the search box's input taken apart by inbox.search.terms. A read: below the actions."""
