"""Which subject a remote call goes to. The default is the service's queue group: any instance.

The balance part (issue 16, item 2) replaces ``choose_subject`` with consistent hashing of
``shard_key`` over the live instances; the proxy calls nothing else to pick a target.
"""

from __future__ import annotations

from kernel.registry._subjects import method_subject


def choose_subject(service: str, method: str, *, shard_key: str | None) -> str:
    return method_subject(service, method)
