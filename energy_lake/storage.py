"""Small-object storage for local paths and S3, behind one interface.

Spark reads and writes the data files itself; this module handles what Spark does not: listing
raw loads, landing source files, load markers, locks and run reports. Local paths and `s3://`
URIs behave the same, so the job code never branches on where it runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from energy_lake.layout import is_s3


class ObjectExistsError(Exception):
    """A conditional create found the object already there."""


@dataclass(frozen=True)
class StoredObject:
    uri: str
    size: int


class Store(Protocol):
    def list(self, prefix: str) -> list[StoredObject]:
        """Every object under a prefix (recursively), sorted by URI."""
        ...

    def read_bytes(self, uri: str, length: int | None = None) -> bytes: ...

    def write_bytes(self, uri: str, data: bytes, *, exclusive: bool = False) -> None:
        """Write atomically; with `exclusive`, fail with ObjectExistsError if it exists."""
        ...

    def exists(self, uri: str) -> bool: ...

    def delete(self, uri: str) -> None: ...

    def delete_prefix(self, prefix: str) -> int: ...


class LocalStore:
    """A directory tree. Writes go to a temporary file and are renamed into place (atomic)."""

    def list(self, prefix: str) -> list[StoredObject]:
        root = Path(prefix)
        if root.is_file():
            return [StoredObject(str(root), root.stat().st_size)]
        if not root.is_dir():
            return []
        found = [
            StoredObject(str(p), p.stat().st_size)
            for p in root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        ]
        return sorted(found, key=lambda o: o.uri)

    def read_bytes(self, uri: str, length: int | None = None) -> bytes:
        with open(uri, "rb") as handle:
            return handle.read() if length is None else handle.read(length)

    def write_bytes(self, uri: str, data: bytes, *, exclusive: bool = False) -> None:
        target = Path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if exclusive:
                try:
                    os.link(tmp, target)  # atomic create-if-absent
                except FileExistsError:
                    raise ObjectExistsError(uri) from None
            else:
                os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def exists(self, uri: str) -> bool:
        return Path(uri).exists()

    def delete(self, uri: str) -> None:
        Path(uri).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        root = Path(prefix)
        if not root.exists():
            return 0
        count = sum(1 for p in root.rglob("*") if p.is_file())
        shutil.rmtree(root)
        return count


def split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an S3 URI: {uri!r} (expected s3://bucket/key)")
    return parsed.netloc, parsed.path.lstrip("/")


class S3Store:
    """An S3 bucket through boto3. Exclusive writes use S3 conditional writes (If-None-Match)."""

    def __init__(self, client=None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self._s3 = client

    def list(self, prefix: str) -> list[StoredObject]:
        bucket, key = split_s3(prefix)
        if key and not key.endswith("/"):
            key += "/"
        found: list[StoredObject] = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for item in page.get("Contents", []):
                found.append(StoredObject(f"s3://{bucket}/{item['Key']}", item["Size"]))
        return sorted(found, key=lambda o: o.uri)

    def read_bytes(self, uri: str, length: int | None = None) -> bytes:
        bucket, key = split_s3(uri)
        extra = {} if length is None else {"Range": f"bytes=0-{max(length - 1, 0)}"}
        return self._s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()

    def write_bytes(self, uri: str, data: bytes, *, exclusive: bool = False) -> None:
        from botocore.exceptions import ClientError

        bucket, key = split_s3(uri)
        extra = {"IfNoneMatch": "*"} if exclusive else {}
        try:
            self._s3.put_object(Bucket=bucket, Key=key, Body=data, **extra)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if exclusive and code in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise ObjectExistsError(uri) from None
            raise

    def exists(self, uri: str) -> bool:
        from botocore.exceptions import ClientError

        bucket, key = split_s3(uri)
        try:
            self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def delete(self, uri: str) -> None:
        bucket, key = split_s3(uri)
        self._s3.delete_object(Bucket=bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        objects = self.list(prefix)
        bucket, _ = split_s3(prefix)
        for start in range(0, len(objects), 1000):
            batch = [{"Key": split_s3(o.uri)[1]} for o in objects[start : start + 1000]]
            self._s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        return len(objects)


def store_for(uri: str) -> Store:
    return S3Store() if is_s3(uri) else LocalStore()
