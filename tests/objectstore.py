"""A real S3-compatible server on 127.0.0.1 for the object-storage tests: the one `.ci/run` started
(S3_TEST_ENDPOINT), or moto's standalone server (from PyPI) started for this test session."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import requests

KEYS = ("test", "test")  # moto takes any keys; a real server is given its own through the URL


def start_server(logs: Path) -> tuple[str, subprocess.Popen | None]:
    endpoint = os.environ.get("S3_TEST_ENDPOINT", "")
    process = None
    if not endpoint:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        logs.mkdir(parents=True, exist_ok=True)
        out = open(logs / "moto.log", "ab")  # noqa: SIM115 - lives as long as the server
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(endpoint, timeout=1)
            return endpoint, process
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting up
            if time.monotonic() > deadline:
                raise RuntimeError(f"no S3 server answered at {endpoint}") from None
            time.sleep(0.2)


@dataclass
class Bucket:
    endpoint: str
    name: str

    @property
    def url(self) -> str:
        """The product's STORAGE_URL for this bucket."""
        return f"s3://{KEYS[0]}:{KEYS[1]}@{self.name}?endpoint_url={self.endpoint}"

    @property
    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEYS[0],
                            aws_secret_access_key=KEYS[1], region_name="us-east-1")

    def keys(self, prefix: str = "") -> list[str]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return found

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def write(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=body)


def new_bucket(endpoint: str) -> Bucket:
    bucket = Bucket(endpoint, f"media-{uuid.uuid4().hex[:16]}")
    bucket.client.create_bucket(Bucket=bucket.name)
    return bucket
