from typing import ClassVar

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: ClassVar = []

    operations: ClassVar = [
        migrations.CreateModel(
            name="Incident",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dataset", models.CharField(max_length=96)),
                ("kind", models.CharField(max_length=32)),
                ("key", models.CharField(max_length=400)),
                ("rank", models.PositiveIntegerField()),
                ("ts", models.BigIntegerField(help_text="epoch milliseconds UTC")),
                ("jobs", models.JSONField(default=list)),
                ("entity", models.CharField(blank=True, default="", max_length=200)),
                ("description", models.CharField(max_length=300)),
                ("detail", models.JSONField(default=dict)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "indexes": [models.Index(fields=["rank", "dataset"], name="playback_incident_rank")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("dataset", "kind", "key"), name="playback_incident_unique"
                    )
                ],
            },
        ),
    ]
