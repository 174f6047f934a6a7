"""A service over a real SQLite database, driven cycle by cycle with a test clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from skypact.api.app import create_app
from skypact.config import Settings, StorageSettings
from skypact.runtime import Runtime, open_runtime
from skypact.storage.engine import make_engine, migrate
from tests.agreements import signed_agreement

T0_S = 1_445_342_400.0  # 2015-10-20 12:00Z


@dataclass
class Clock:
    now_s: float = T0_S

    def __call__(self) -> float:
        return self.now_s


@dataclass
class Deployment:
    """The opened service, its app's client, and a token per (party, role)."""

    runtime: Runtime
    client: TestClient
    clock: Clock
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def token(self, party: str, role: str = "duty-officer") -> str:
        if (party, role) not in self.tokens:
            issued = self.runtime.repository.create_token(party, role, label="test")
            self.tokens[(party, role)] = issued.token
        return self.tokens[(party, role)]

    def auth(self, party: str, role: str = "duty-officer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(party, role)}"}

    def cycle(self, seconds: float = 1.0) -> None:
        self.clock.now_s += seconds
        self.runtime.service.cycle()


def deploy(
    tmp_path, database_url: str | None = None, extra: str = "", **settings_extra
) -> Deployment:
    """The service over a fresh database; ``settings_extra`` are further
    :class:`Settings` (``cycle_s``, ``picture_s``, ...)."""
    agreement = signed_agreement(tmp_path / "agreement.toml", extra)
    settings = Settings(
        data_dir=tmp_path / "data",
        agreement=agreement,
        storage=StorageSettings(url=database_url),
        **settings_extra,
    )
    engine = make_engine(settings.database_url())
    migrate(engine)
    engine.dispose()
    clock = Clock()
    opened = open_runtime(settings, clock=clock)
    client = TestClient(create_app(opened, run_cycles=False))
    return Deployment(runtime=opened, client=client, clock=clock)


@pytest.fixture
def deployment(tmp_path):
    deployed = deploy(tmp_path)
    with deployed.client:
        yield deployed
    deployed.runtime.close()
