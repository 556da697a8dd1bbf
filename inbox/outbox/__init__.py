"""Database -> X: posting each outbox row (inbox.models.OutboxRow: a Reply, a BrandTweet)
exactly once.

- sending: the machinery every row shares (the attempt loop, the in-flight lease,
  attempts, back-off, a 429 pausing the brand, a supervisor's retry or discard).
- replies: agents' replies and the brand's auto-replies, as a tweet or a DM.
- brand_tweets: approved proposals' tweets.

This package is the only writer of an outbox row's status. A row is created `queued`
(the model's default) by whatever queues it (inbox.actions._queue_reply,
inbox.ingest.autoreply, inbox.proposals.do_approve); every later status (sending,
posted, failed, queued again, discarded) is written by inbox.outbox.sending, which
replies and brand_tweets call. Their side effects (a thread's, a proposal's) are the
lower modules' (inbox.actions.reply_*, inbox.proposals.tweet_*).
"""
