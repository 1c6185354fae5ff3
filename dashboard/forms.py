"""The home page's search form: an id (`kind:id` or bare) and, optionally, one dataset to look in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms

from playback.lookup import DatasetFacts

QUERY_MAX_LENGTH = 200
#: The dataset choice that searches every dataset.
ALL_DATASETS = ""


def dataset_label(facts: DatasetFacts) -> str:
    """`name — N points · M events`, the text of one option of the dataset <select>."""
    return f"{facts.name} — {facts.points:,} points · {facts.events:,} events"


class SearchForm(forms.Form):
    """GET `q` and `dataset`: valid when `q` has 1–200 characters and `dataset` is known or empty (all)."""

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
        required=False,
        error_messages={"invalid_choice": "No dataset is named “%(value)s”; pick one from the list."},
    )

    def __init__(self, params: Mapping[str, Any], *, datasets: Sequence[DatasetFacts]) -> None:
        """Bound only when `params` carries `q`; otherwise a blank form for the landing page."""
        names = [facts.name for facts in datasets]
        requested = str(params.get("dataset") or ALL_DATASETS)
        data = {"q": params.get("q", ""), "dataset": requested} if "q" in params else None
        super().__init__(data, initial={"dataset": requested if requested in names else ALL_DATASETS})
        field = self.fields["dataset"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(ALL_DATASETS, "All datasets")] + [
            (facts.name, dataset_label(facts)) for facts in datasets
        ]
