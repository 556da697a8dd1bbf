"""The quality loop: supervisors' review of answers (review.py) and customers'
satisfaction after a close. Actions layer: views call these; they write Events through
inbox.events."""
