"""Where computed schedules live.

A project's computed task fields are stored column-wise in ``ScheduleChunk`` rows rather than on each work item:
moving a project's finish changes the late dates and floats of nearly every task, and rewriting 100,000 rows
per edit is far slower than rewriting a few dozen binary chunks. ``ProjectSchedule`` holds the project-level
figures and the version that readers compare against their cache. ``WorkItem.is_critical`` is kept as a
column too, written only where it flips, so lists can filter on it in SQL. ``Dependency.is_driving`` lives only
on the link rows (one flag a link, which few edits flip, needs no packing); the scheduler writes it where it
flips and each process keeps the stored flags with its cached inputs to find the flips without reading them.
"""

from __future__ import annotations

from django.db import models


class ProjectSchedule(models.Model):
    """The latest computation of one project's schedule.

    Invariant: after every committed write, the chunks with ``number < chunk_count`` hold exactly what a fresh
    computation of the project's stored inputs gives, and so do the ``is_critical`` of its live tasks and the
    ``is_driving`` of its live links. ``version`` grows by one whenever a computed value changes.
    """

    project = models.OneToOneField("portfolio.Project", primary_key=True, on_delete=models.CASCADE,
                                   related_name="schedule")
    version = models.BigIntegerField(default=0)
    stream_seq = models.BigIntegerField(default=0, help_text="The project's change-stream position it reflects.")
    computed_at = models.DateTimeField(null=True, blank=True)
    compute_ms = models.FloatField(default=0)
    project_start = models.DateField(null=True, blank=True)
    project_finish = models.DateField(null=True, blank=True)
    critical_path = models.JSONField(default=list, blank=True)
    task_count = models.IntegerField(default=0)
    critical_count = models.IntegerField(default=0)
    late_count = models.IntegerField(default=0)
    chunk_count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"schedule of project {self.project_id} v{self.version}"


class ScheduleChunk(models.Model):
    """Computed fields of up to ``store.CHUNK_SIZE`` tasks, consecutive in id order, packed as arrays
    (see ``store.encode``). ``version`` is the ``ProjectSchedule.version`` that last wrote it."""

    project = models.ForeignKey("portfolio.Project", on_delete=models.CASCADE, related_name="+")
    number = models.IntegerField()
    version = models.BigIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="one_chunk_per_number")]

    def __str__(self) -> str:
        return f"project {self.project_id} chunk {self.number} v{self.version}"
