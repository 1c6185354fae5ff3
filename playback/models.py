"""Notable incidents of a dataset (a simulator run's manifest), listed on the landing page.

Row layout: one `Incident` per (dataset, kind, key); `key` spells what makes the incident itself inside its
dataset (time, jobs, entity, round or area), so recording the same manifest twice adds nothing.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class Incident(models.Model):
    """One incident of a dataset: what happened (kind, description), when, and the ids to open."""

    dataset = models.CharField(max_length=96)
    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=400)
    #: Position inside its kind in the manifest: 0 is the worst of that kind.
    rank = models.PositiveIntegerField()
    ts = models.BigIntegerField(help_text="epoch milliseconds UTC")
    jobs = models.JSONField(default=list)
    entity = models.CharField(max_length=200, blank=True, default="")
    description = models.CharField(max_length=300)
    detail = models.JSONField(default=dict)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["dataset", "kind", "key"], name="playback_incident_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["rank", "dataset"], name="playback_incident_rank")]

    def __str__(self) -> str:
        return f"{self.dataset} {self.kind}: {self.description}"
