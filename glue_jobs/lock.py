"""One run at a time per lake: a lock with its owner and age, taken over safely when stale.

Locally the lock is an OS file lock (`flock`) on `<processed>/_locks/lake.lock`: the kernel
releases it when the holding process dies, so a lock left by a killed run is taken over by the
next one without guessing. The file also records the owner (host, pid, job, run id, start time)
so a refused run can say who holds the lake and since when.

On S3 the lock is an object created with a conditional write (`If-None-Match: *`); Glue's
`MaxConcurrentRuns = 1` per job and the workflow's single active run are the first line of
defence, this object the second. A lock object older than the job timeout belongs to a dead run
and is replaced.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from energy_lake.layout import LOCKS, Lake, is_s3, join
from energy_lake.storage import ObjectExistsError, store_for

LOCK_NAME = "lake.lock"
STALE_AFTER_SECONDS = 6 * 3600  # longer than the Glue job timeout: older means a dead run


class LakeLockedError(RuntimeError):
    """Another run holds the lake."""


@dataclass
class LockOwner:
    job: str
    run_id: str
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    since: float = field(default_factory=time.time)

    def age(self) -> float:
        return time.time() - self.since


@dataclass
class HeldLock:
    owner: LockOwner
    took_over: dict | None = None  # the stale owner replaced, if any

    def describe(self) -> dict:
        return {"owner": asdict(self.owner), "took_over_stale_lock_of": self.took_over}


def _refusal(uri: str, holder: dict, job: str) -> LakeLockedError:
    since = holder.get("since", time.time())
    started = datetime.fromtimestamp(since, UTC).isoformat(timespec="seconds")
    return LakeLockedError(
        f"{job} refused to start: the lake is locked by {holder.get('job')} run "
        f"{holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')}, started "
        f"{started}, {time.time() - since:.0f} s ago). Wait for it to finish; lock: {uri}"
    )


@contextmanager
def lake_lock(lake: Lake, job: str, run_id: str) -> Iterator[HeldLock]:
    uri = join(lake.processed, LOCKS, LOCK_NAME)
    owner = LockOwner(job=job, run_id=run_id)
    if is_s3(uri):
        with _s3_lock(uri, owner) as held:
            yield held
    else:
        with _file_lock(uri, owner) as held:
            yield held


@contextmanager
def _file_lock(path: str, owner: LockOwner) -> Iterator[HeldLock]:
    import fcntl

    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refusal(path, _read_owner(fd), owner.job) from None
        previous = _read_owner(fd)
        took_over = previous if previous.get("state") == "held" else None
        _write_owner(fd, {**asdict(owner), "state": "held"})
        try:
            yield HeldLock(owner, took_over)
        finally:
            _write_owner(fd, {**asdict(owner), "state": "released"})
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_owner(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 1 << 16)
    try:
        return json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}


def _write_owner(fd: int, owner: dict) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(owner).encode())
    os.fsync(fd)


@contextmanager
def _s3_lock(uri: str, owner: LockOwner) -> Iterator[HeldLock]:
    store = store_for(uri)
    body = json.dumps({**asdict(owner), "state": "held"}).encode()
    took_over = None
    try:
        store.write_bytes(uri, body, exclusive=True)
    except ObjectExistsError:
        holder = json.loads(store.read_bytes(uri) or b"{}")
        if time.time() - holder.get("since", 0) < STALE_AFTER_SECONDS:
            raise _refusal(uri, holder, owner.job) from None
        store.delete(uri)  # a dead run's lock: replace it, still exclusively
        try:
            store.write_bytes(uri, body, exclusive=True)
        except ObjectExistsError:
            raise _refusal(uri, json.loads(store.read_bytes(uri)), owner.job) from None
        took_over = holder
    try:
        yield HeldLock(owner, took_over)
    finally:
        store.delete(uri)
