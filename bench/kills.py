"""Nothing of bench's own any more: bench/ starts, kills and waits on its processes with
tests/processes.py (`shell`, `Process.kill`, `Process.kill_children`, `wait_until`).

This name stays only for tests/faults/test_postgres_restart.py and test_redis_restart.py,
which import `wait_until` from here; delete it once they import it from tests.processes.
"""

from __future__ import annotations

from tests.processes import wait_until

__all__ = ["wait_until"]
