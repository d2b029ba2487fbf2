"""What a layer gets besides its inputs: where to write, how to report progress, its secrets."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigurationError

ProgressFn = Callable[[float, str], None]


@dataclass
class RecordedAsset:
    path: str          # relative to the job folder
    kind: str
    sha256: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class LayerContext:
    job_id: str
    layer: str
    work_dir: Path
    progress: ProgressFn = lambda fraction, message="": None
    secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("pipeline"))
    # A Django-style cache (get/set/add/delete); the jobs app passes django.core.cache.cache.
    cache: Any = None
    # Asks other workers to help with this layer: fan_out(helpers) queues that many helper tasks
    # (L6 uses it for chunked renders). None where there are no other workers.
    fan_out: Callable[[int], None] | None = None
    # file_link(path, expires): a link a receiver outside can download a job file (path relative to the job
    # folder) from until `expires` (an aware datetime); None where there is no one to hand links to.
    file_link: Callable[[str, Any], str] | None = None
    # L7's platform destinations: account(id) is the connected account (pipeline.publish.Account), and
    # publication(destination, plan_version) the ledger that makes each post happen once (pipeline.publish.Ledger).
    account: Callable[[int], Any] | None = None
    publication: Callable[[dict, int], Any] | None = None
    # L6's scene cache where workers share no disk (pipeline.render.chunks.SharedScenes); None when they do.
    scenes: Any = None
    assets: list[RecordedAsset] = field(default_factory=list)

    @property
    def layer_dir(self) -> Path:
        path = self.work_dir / self.layer
        path.mkdir(parents=True, exist_ok=True)
        return path

    def rel(self, path: Path) -> str:
        """The path as the contracts store it: relative to the job folder."""
        return Path(path).resolve().relative_to(self.work_dir.resolve()).as_posix()

    def secret(self, provider: str, key: str = "api_key") -> str:
        value = self.secrets.get(provider, {}).get(key, "")
        if not value:
            raise ConfigurationError(
                f"no {key} is set for {provider}",
                layer=self.layer, provider=provider,
                hint=f"set {provider.upper()}_{key.upper()} in the environment, or pick an offline provider",
            )
        return value

    def record_asset(self, asset: RecordedAsset) -> None:
        self.assets.append(asset)
