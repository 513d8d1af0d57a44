"""Deterministic, realistic generated data for load tests, produced in whole-project batches.

Rows are plain tuples in the column order of `COLUMNS`, so a batch can go straight to
PostgreSQL's COPY. Only one batch is in memory at a time.
"""

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from taskflow.models import MemberRole, TaskPriority, TaskStatus

__all__ = [
    "BENCH_EMAIL",
    "BENCH_PROJECTS",
    "COLUMNS",
    "GENERATED_DOMAIN",
    "Batch",
    "Generator",
    "Plan",
]

GENERATED_DOMAIN = "load.example.net"
BENCH_EMAIL = f"bench@{GENERATED_DOMAIN}"
BENCH_PROJECTS = 20  # the benchmark's user is a member of this many projects

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "email", "full_name", "hashed_password", "is_active", "created_at", "updated_at",
    ),
    "projects": ("id", "name", "description", "owner_id", "created_at", "updated_at"),
    "project_members": ("id", "project_id", "user_id", "role", "joined_at"),
    "tags": ("id", "project_id", "name", "created_at"),
    "tasks": (
        "id", "title", "description", "status", "priority", "due_date",
        "project_id", "assignee_id", "created_at", "updated_at",
    ),
    "task_tags": ("task_id", "tag_id", "task_created_at"),
}  # fmt: skip

# Real backlogs: most work is done, little is urgent.
STATUS_WEIGHTS = {TaskStatus.DONE: 0.6, TaskStatus.TODO: 0.25, TaskStatus.IN_PROGRESS: 0.15}
PRIORITY_WEIGHTS = {TaskPriority.MEDIUM: 0.5, TaskPriority.LOW: 0.35, TaskPriority.HIGH: 0.15}
ASSIGNED_SHARE = 0.7
DUE_DATE_SHARE = 0.3
TAGS_PER_TASK_WEIGHTS = {0: 0.3, 1: 0.35, 2: 0.25, 3: 0.1}
HISTORY = timedelta(days=730)

_VERBS = [
    "Fix",
    "Add",
    "Remove",
    "Refactor",
    "Document",
    "Test",
    "Review",
    "Design",
    "Migrate",
    "Update",
    "Investigate",
    "Ship",
]
_NOUNS = [
    "login flow",
    "billing page",
    "search index",
    "onboarding email",
    "API client",
    "dashboard",
    "export job",
    "mobile layout",
    "cache layer",
    "audit log",
    "permissions",
    "notifications",
    "release notes",
    "CI pipeline",
]
_TAGS = [
    "bug",
    "feature",
    "chore",
    "docs",
    "design",
    "backend",
    "frontend",
    "api",
    "infra",
    "security",
    "performance",
    "ux",
    "mobile",
    "ios",
    "android",
    "web",
    "billing",
    "auth",
    "search",
    "email",
    "analytics",
    "release",
    "hotfix",
    "spike",
    "research",
    "refactor",
    "tests",
    "ops",
    "data",
    "ml",
    "legal",
    "sales",
    "support",
    "marketing",
    "i18n",
    "a11y",
]


@dataclass(frozen=True)
class Plan:
    """How much of everything a load of `tasks` tasks makes."""

    tasks: int
    users: int
    projects: int

    @classmethod
    def for_tasks(cls, tasks: int) -> "Plan":
        return cls(tasks=tasks, users=max(tasks // 100, 25), projects=max(tasks // 1000, 1))


@dataclass
class Batch:
    """Rows for whole projects, by table."""

    rows: dict[str, list[tuple[object, ...]]] = field(
        default_factory=lambda: {table: [] for table in COLUMNS if table != "users"}
    )
    projects: int = 0
    tasks: int = 0


class Generator:
    """Produces the rows of a load; the same `seed` gives the same rows."""

    def __init__(
        self, plan: Plan, *, seed: int, first_ids: dict[str, int], password_hash: str, now: datetime
    ) -> None:
        self.plan = plan
        self.seed = seed
        self.random = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
        self.ids = dict(first_ids)
        self.password_hash = password_hash
        self.now = now
        self.user_ids = range(first_ids["users"], first_ids["users"] + plan.users)
        self.tasks_per_project = self._split(plan.tasks, plan.projects)

    def _split(self, total: int, parts: int) -> list[int]:
        # Uneven project sizes (0.5x to 1.5x the mean) that add up to exactly `total`.
        weights = [self.random.uniform(0.5, 1.5) for _ in range(parts)]
        scale = total / sum(weights)
        counts = [int(weight * scale) for weight in weights]
        for index in range(total - sum(counts)):
            counts[index % parts] += 1
        return counts

    def _past(self, rand: random.Random) -> datetime:
        return self.now - HISTORY * rand.random()

    def users(self, batch_size: int = 10_000) -> Iterator[list[tuple[object, ...]]]:
        """User rows; the first is the benchmark's user."""
        batch: list[tuple[object, ...]] = []
        for number, user_id in enumerate(self.user_ids):
            email = BENCH_EMAIL if number == 0 else f"user{number}@{GENERATED_DOMAIN}"
            created = self._past(self.random)
            batch.append(
                (
                    user_id,
                    email,
                    f"Generated User {number}",
                    self.password_hash,
                    True,
                    created,
                    created,
                )
            )
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def project_batches(self, tasks_per_batch: int = 20_000) -> Iterator[Batch]:
        """Whole projects with their members, tags, tasks and task tags."""
        batch = Batch()
        for index, task_count in enumerate(self.tasks_per_project):
            self._project(batch, index, task_count)
            if batch.tasks >= tasks_per_batch:
                yield batch
                batch = Batch()
        if batch.projects:
            yield batch

    def _next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _project(self, batch: Batch, index: int, task_count: int) -> None:
        # A stream of its own per project: a project's vocabulary and the shape of its
        # backlog depend on the seed and its position only, not on the size of the load,
        # so the benchmark's user sees the same tags in a load of 100,000 tasks as in
        # one of 1,000,000, and a tag-filtered page is the same request at both sizes.
        # The tags are drawn first: sampling members from a population whose size grows
        # with the load takes a different amount of the stream.
        rand = random.Random(f"{self.seed}/{index}")  # noqa: S311
        tag_names = rand.sample(_TAGS, rand.randint(10, min(30, len(_TAGS))))
        rows = batch.rows
        project_id = self._next_id("projects")
        size = min(rand.randint(5, 20), len(self.user_ids))
        # The benchmark's user is a member of the first BENCH_PROJECTS projects only, at
        # every size (drawn at random, it joined more of them in some loads than others).
        bench_user, others = self.user_ids[0], self.user_ids[1:]
        if index < BENCH_PROJECTS:
            members = [*rand.sample(others, size - 1), bench_user]
        else:
            members = rand.sample(others, size)
        owner = members[0] if members[0] != bench_user else members[1]
        created = self._past(rand)
        rows["projects"].append((project_id, f"Project {index + 1}", None, owner, created, created))
        for position, user_id in enumerate(members):
            role = (
                MemberRole.OWNER
                if user_id == owner
                else MemberRole.ADMIN
                if position <= 2 and user_id != bench_user
                else MemberRole.MEMBER
            )
            rows["project_members"].append(
                (self._next_id("project_members"), project_id, user_id, role.value, created)
            )
        tag_ids = []
        for name in tag_names:
            tag_id = self._next_id("tags")
            tag_ids.append(tag_id)
            rows["tags"].append((tag_id, project_id, name, created))
        # A few tags carry most of the use (like "bug"), as in real vocabularies.
        tag_weights = list(itertools.accumulate(1 / rank for rank in range(1, len(tag_ids) + 1)))
        statuses = rand.choices(
            list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=task_count
        )
        priorities = rand.choices(
            list(PRIORITY_WEIGHTS), weights=list(PRIORITY_WEIGHTS.values()), k=task_count
        )
        tag_counts = rand.choices(
            list(TAGS_PER_TASK_WEIGHTS), weights=list(TAGS_PER_TASK_WEIGHTS.values()), k=task_count
        )
        for number in range(task_count):
            task_id = self._next_id("tasks")
            task_created = self._past(rand)
            due = (
                task_created + timedelta(days=rand.uniform(1, 60))
                if rand.random() < DUE_DATE_SHARE
                else None
            )
            assignee = rand.choice(members) if rand.random() < ASSIGNED_SHARE else None
            title = f"{rand.choice(_VERBS)} {rand.choice(_NOUNS)} #{number + 1}"
            description = (
                f"Generated task {number + 1} of project {index + 1}." if number % 3 == 0 else None
            )
            rows["tasks"].append(
                (
                    task_id, title, description, statuses[number].value, priorities[number].value,
                    due, project_id, assignee, task_created, task_created,
                )
            )  # fmt: skip
            picked = rand.choices(tag_ids, cum_weights=tag_weights, k=tag_counts[number])
            for tag_id in dict.fromkeys(picked):
                rows["task_tags"].append((task_id, tag_id, task_created))
        batch.projects += 1
        batch.tasks += task_count
