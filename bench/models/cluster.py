"""Reaching an existing Dask cluster: a wrong or dead address is one line, quickly, not a 30 s hang."""
from __future__ import annotations

from typing import Any


class SchedulerError(RuntimeError):
    """A dask scheduler that cannot be reached at the address given."""


def connect(scheduler: str, timeout: float) -> Any:
    """A `distributed.Client` of the scheduler at `scheduler`, or SchedulerError after `timeout` seconds."""
    from distributed import Client

    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SchedulerError(f"{scheduler}: cannot reach the dask scheduler within {timeout:g} s ({why}); "
                             "is it running, and is the address tcp://HOST:PORT?") from None
