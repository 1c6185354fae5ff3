"""The playback page's deep link: scope (dataset + job, or dataset + entity + window), playhead, speed."""

from __future__ import annotations

from typing import Any

from django import forms

from storage.grammar import DATASET_GRAMMAR, ID_GRAMMAR, dataset_is_valid, id_is_valid

#: The speeds the page offers, as multiples of real time.
SPEEDS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1000)
MAX_EPOCH_MS = 10**14


class PlaybackForm(forms.Form):
    """GET parameters of /playback/: `dataset` and `job`, or `dataset`, `entity` and optionally a window."""

    dataset = forms.CharField(max_length=96)
    job = forms.CharField(max_length=200, required=False)
    entity = forms.CharField(max_length=200, required=False)
    start = forms.IntegerField(required=False, min_value=0, max_value=MAX_EPOCH_MS)
    end = forms.IntegerField(required=False, min_value=0, max_value=MAX_EPOCH_MS)
    t = forms.IntegerField(required=False, min_value=0, max_value=MAX_EPOCH_MS)
    speed = forms.FloatField(required=False)
    follow = forms.CharField(max_length=200, required=False)
    loop = forms.RegexField(regex=r"^\d{1,14}-\d{1,14}$", required=False)

    def clean_dataset(self) -> str:
        value = str(self.cleaned_data["dataset"])
        if not dataset_is_valid(value):
            raise forms.ValidationError(f"A dataset is named {DATASET_GRAMMAR}.")
        return value

    def _clean_id(self, name: str) -> str | None:
        value = str(self.cleaned_data.get(name) or "").strip()
        if not value:
            return None
        if not id_is_valid(value):
            raise forms.ValidationError(f"“{value}” is not an id: ids are {ID_GRAMMAR}.")
        return value

    def clean_job(self) -> str | None:
        return self._clean_id("job")

    def clean_entity(self) -> str | None:
        return self._clean_id("entity")

    def clean_follow(self) -> str | None:
        return self._clean_id("follow")

    def clean_speed(self) -> float | None:
        value = self.cleaned_data.get("speed")
        if value is None:
            return None
        if value not in SPEEDS:
            raise forms.ValidationError(f"Speed is one of {', '.join(f'{s:g}' for s in SPEEDS)} × real time.")
        return float(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("job")) == bool(data.get("entity")):
            raise forms.ValidationError("Give either an order (job=…) or an entity (entity=…) to replay.")
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both start and end of the window, or neither.")
        if start is not None and end is not None and end <= start:
            raise forms.ValidationError("The window's end must come after its start.")
        return data

    def scope(self) -> dict[str, Any]:
        """The `scope` of the socket's `open` (docs/protocol.md)."""
        data = self.cleaned_data
        if data.get("job"):
            return {"kind": "job", "dataset": data["dataset"], "job": data["job"]}
        scope: dict[str, Any] = {"kind": "entity", "dataset": data["dataset"], "entity": data["entity"]}
        if data.get("start") is not None:
            scope.update(start=data["start"], end=data["end"])
        return scope

    def loop_range(self) -> list[int] | None:
        """The loop selection [from, to] in epoch ms, or None."""
        raw = self.cleaned_data.get("loop")
        if not raw:
            return None
        a, b = (int(x) for x in str(raw).split("-"))
        return [a, b] if b > a else None
