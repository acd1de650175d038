"""Users made for a test: a UID no process on this machine has.

WHY: ``useradd`` gives the lowest free UID, 1000 on a fresh machine, which is also the UID the
image's user runs as in every container (image/contract.json): a test that then counts or kills
"its user's processes" would count or kill the containers of other tests. The UIDs here are
above any that login.defs hands out (60000 on Debian) and below 65534 (nobody).
"""

from __future__ import annotations

import pwd
from pathlib import Path

FIRST, LAST = 61000, 65000


def _uids_of_processes() -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.add(entry.stat().st_uid)
            except FileNotFoundError:
                pass
    return found


def free_uid() -> int:
    """A UID no user has and no process runs as."""
    taken = {record.pw_uid for record in pwd.getpwall()} | _uids_of_processes()
    for uid in range(FIRST, LAST):
        if uid not in taken:
            return uid
    raise AssertionError(f"no free UID in {FIRST}..{LAST}")


def useradd_arguments() -> list[str]:
    """``useradd`` options for a user of its own UID (and a group of the same number)."""
    uid = free_uid()
    return ["--uid", str(uid)]
