"""The home page's search form: an id (`kind:id`) and the dataset to look it up in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from playback.lookup import DatasetFacts

QUERY_MAX_LENGTH = 200
# Shown when the track store holds nothing yet, so the form still has a dataset to search.
FALLBACK_DATASET = "default"


def dataset_label(facts: DatasetFacts) -> str:
    """`name — N points · M events`, the text of one option of the dataset <select>."""
    return f"{facts.name} — {facts.points:,} points · {facts.events:,} events"


class SearchForm(forms.Form):
    """GET `q` and `dataset`: valid when `q` is an id of 1–200 characters and `dataset` is known."""

    q = forms.CharField(
        label="Order, courier or bike id",
        max_length=QUERY_MAX_LENGTH,
        strip=True,
        error_messages={
            "required": "Type an id to search for, such as order:o123 or courier:c17.",
            "max_length": f"An id is at most {QUERY_MAX_LENGTH} characters long.",
        },
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "order:o123, courier:c17, bike:b42 …",
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "aria-keyshortcuts": "/",
            }
        ),
    )
    dataset = forms.ChoiceField(
        label="Dataset",
        error_messages={"invalid_choice": "No dataset is named “%(value)s”; pick one from the list."},
    )

    def __init__(self, params: Mapping[str, Any], *, datasets: Sequence[DatasetFacts]) -> None:
        """Bound only when `params` carries `q`; otherwise a blank form for the landing page."""
        names = [facts.name for facts in datasets] or [FALLBACK_DATASET]
        # A deep link may carry only `q` (search the first dataset) or only `dataset` (preselect it).
        requested = str(params.get("dataset") or names[0])
        data = {"q": params.get("q", ""), "dataset": requested} if "q" in params else None
        super().__init__(data, initial={"dataset": requested if requested in names else names[0]})
        field = self.fields["dataset"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(facts.name, dataset_label(facts)) for facts in datasets] or [
            (FALLBACK_DATASET, f"{FALLBACK_DATASET} — empty")
        ]
