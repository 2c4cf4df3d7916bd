"""Object storage: a local folder (default) or any S3-compatible bucket.

Keys are tenant-relative ("builds/photos/abc.jpg"); the backend stores them
under `tenants/<tenant_id>/…`, so one tenant's key can never name another's
file. Files reach a browser only through the authorised
`GET /api/v1/files/{key}` route, never from a public folder.
"""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from app.platform.errors import NotFound, ValidationFailed
from app.settings import get_settings


def object_key(tenant_id: uuid.UUID | str, key: str) -> str:
    """The full storage key for a tenant-relative key, refusing path tricks."""
    key = key.strip().lstrip("/")
    parts = key.split("/")
    if not key or any(p in ("..", ".", "") for p in parts) or "\\" in key or "\x00" in key:
        raise ValidationFailed("invalid file key")
    return f"tenants/{uuid.UUID(str(tenant_id))}/{key}"


@dataclass(frozen=True)
class StoredFile:
    key: str
    data: bytes
    content_type: str


class Backend(Protocol):
    def put(self, full_key: str, data: bytes, content_type: str) -> None: ...
    def get(self, full_key: str) -> StoredFile: ...
    def delete(self, full_key: str) -> None: ...
    def exists(self, full_key: str) -> bool: ...


class LocalBackend:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, full_key: str) -> Path:
        path = (self.root / full_key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValidationFailed("invalid file key")
        return path

    def put(self, full_key: str, data: bytes, content_type: str) -> None:
        path = self._path(full_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic: readers never see half a file. A temporary name of its own
        # per write, so two writers of one key (two workers making the same
        # piece) each replace the file whole instead of moving each other's.
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
        tmp.write_bytes(data)
        tmp.replace(path)
        type_tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.type-part")
        type_tmp.write_text(content_type)
        type_tmp.replace(path.with_name(path.name + ".type"))

    def get(self, full_key: str) -> StoredFile:
        path = self._path(full_key)
        if not path.is_file():
            raise NotFound("no such file")
        type_file = path.with_name(path.name + ".type")
        ctype = type_file.read_text() if type_file.exists() else _guess_type(full_key)
        return StoredFile(full_key, path.read_bytes(), ctype)

    def delete(self, full_key: str) -> None:
        path = self._path(full_key)
        for p in (path, path.with_name(path.name + ".type")):
            p.unlink(missing_ok=True)

    def exists(self, full_key: str) -> bool:
        return self._path(full_key).is_file()


class S3Backend:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
    ):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
            ),
        )

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, full_key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=full_key, Body=data, ContentType=content_type)

    def get(self, full_key: str) -> StoredFile:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=full_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound("no such file") from exc
            raise
        return StoredFile(full_key, obj["Body"].read(), obj.get("ContentType") or _guess_type(full_key))

    def delete(self, full_key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=full_key)

    def exists(self, full_key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=full_key)
            return True
        except ClientError:
            return False

    def presigned_url(self, full_key: str, expires_in: int = 300) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": full_key}, ExpiresIn=expires_in
        )


def _guess_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def make_backend() -> Backend:
    s = get_settings()
    if s.storage_backend == "s3":
        backend = S3Backend(
            s.s3_bucket,
            endpoint_url=s.s3_endpoint_url,
            region=s.s3_region,
            access_key_id=s.s3_access_key_id,
            secret_access_key=s.s3_secret_access_key,
        )
        backend.ensure_bucket()
        return backend
    if s.storage_backend != "local":
        raise RuntimeError(f"unknown STORAGE_BACKEND {s.storage_backend!r} (local or s3)")
    return LocalBackend(s.storage_local_path)


@lru_cache
def backend() -> Backend:
    return make_backend()


class TenantStorage:
    """Storage seen by one tenant: every key is tenant-relative."""

    def __init__(self, tenant_id: uuid.UUID | str, store: Backend | None = None):
        self.tenant_id = tenant_id
        self.store = store or backend()

    def put(self, key: str, data: bytes, content_type: str | None = None) -> str:
        self.store.put(object_key(self.tenant_id, key), data, content_type or _guess_type(key))
        return key

    def get(self, key: str) -> StoredFile:
        return self.store.get(object_key(self.tenant_id, key))

    def delete(self, key: str) -> None:
        self.store.delete(object_key(self.tenant_id, key))

    def exists(self, key: str) -> bool:
        return self.store.exists(object_key(self.tenant_id, key))


def for_tenant(tenant_id: uuid.UUID | str) -> TenantStorage:
    return TenantStorage(tenant_id)
