"""Fixtures for the dashboard's view tests: a logged-in client and realistic search answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from playback import selectors
from playback.lookup import DatasetFacts, EntityFacts, EventRow, JobFacts, Lookup


def ms(text: str) -> int:
    """Epoch milliseconds of an ISO time written without a zone (read as UTC)."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


DATASETS = [
    DatasetFacts(name="prod-berlin", points=1_234_567, events=89_012),
    DatasetFacts(name="sim-rush-greedy-7", points=52_000, events=4_310),
]

COURIER = EntityFacts(
    entity="courier:c17",
    first_ts=ms("2026-03-14T11:02:03"),
    last_ts=ms("2026-03-14T13:17:48"),
    points=8_143,
    jobs=("order:o123", "order:o125", "order:o131"),
)

ORDER = JobFacts(
    job="order:o123",
    first_ts=ms("2026-03-14T12:00:00"),
    last_ts=ms("2026-03-14T12:41:30"),
    events=(
        EventRow(
            ts=ms("2026-03-14T12:00:00"),
            type="job_created",
            event_id="e-1",
            entity=None,
            round=None,
            detail={"city": "berlin", "kind": "delivery", "pickup": {"lat": 52.52, "lon": 13.405}},
        ),
        EventRow(
            ts=ms("2026-03-14T12:00:30"),
            type="dispatch_round",
            event_id="e-2",
            entity=None,
            round="round:r9001",
            detail={
                "strategy": "greedy_eta",
                "candidates": [{"entity": "courier:c17"}, {"entity": "courier:c4"}],
            },
        ),
        EventRow(
            ts=ms("2026-03-14T12:00:31"),
            type="job_assigned",
            event_id="e-3",
            entity="courier:c4",
            round="round:r9001",
            detail={"waybill": "w1"},
        ),
        EventRow(
            ts=ms("2026-03-14T12:01:10"),
            type="job_rejected",
            event_id="e-4",
            entity="courier:c4",
            round=None,
            detail={"waybill": "w1", "reason": "too_far"},
        ),
        EventRow(
            ts=ms("2026-03-14T12:41:30"),
            type="job_delivered",
            event_id="e-5",
            entity="courier:c17",
            round="round:r9003",
            detail={"waybill": "w2"},
        ),
    ),
    rounds=("round:r9001", "round:r9003"),
    entities=("courier:c4", "courier:c17"),
)


@dataclass
class FakeSelectors:
    """Answers selectors.lookup from a table of which dataset knows which id, and records every call."""

    datasets: list[DatasetFacts] = field(default_factory=lambda: list(DATASETS))
    calls: list[dict[str, Any]] = field(default_factory=list)
    # The courier is in one dataset, the order in both (ids are unique only inside a dataset).
    known: dict[str, set[str]] = field(
        default_factory=lambda: {
            COURIER.entity: {"prod-berlin"},
            ORDER.job: {"prod-berlin", "sim-rush-greedy-7"},
        }
    )

    def lookup(self, *, dataset: str, query: str) -> Lookup:
        self.calls.append({"dataset": dataset, "query": query})
        typed = query if ":" in query else next((k for k in self.known if k.endswith(":" + query)), query)
        if dataset in self.known.get(typed, set()):
            if typed == COURIER.entity:
                return Lookup(dataset=dataset, query=query, kind="entity", entity=COURIER, job=None)
            if typed == ORDER.job:
                return Lookup(dataset=dataset, query=query, kind="job", entity=None, job=ORDER)
        return Lookup(dataset=dataset, query=query, kind="none", entity=None, job=None)


@pytest.fixture
def fake_selectors(monkeypatch: pytest.MonkeyPatch) -> FakeSelectors:
    fake = FakeSelectors()
    monkeypatch.setattr(selectors, "datasets", lambda: list(fake.datasets))
    monkeypatch.setattr(selectors, "lookup", fake.lookup)
    return fake


@pytest.fixture
def user_client(client, django_user_model):
    """A client logged in as `ana`, in the `ops` group (playback and search)."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="ana", password="correct horse battery")
    user.groups.add(Group.objects.get_or_create(name="ops")[0])
    client.force_login(user)
    return client


@pytest.fixture
def roleless_client(client, django_user_model):
    """A client logged in as `bo`, who has no role group."""
    user = django_user_model.objects.create_user(username="bo", password="correct horse battery")
    client.force_login(user)
    return client
