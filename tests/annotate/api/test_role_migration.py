"""The data migration gives every existing project an owner: its creator, else its earliest manager."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("annotate", "0001_initial")]
AFTER = [("annotate", "0002_manager")]


@pytest.mark.django_db(transaction=True)
def test_creators_and_else_the_first_managers_become_owners():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("auth", "User")
    Project = old.get_model("annotate", "Project")
    Membership = old.get_model("annotate", "Membership")
    alice, bob, carol = (User.objects.create(username=n) for n in ("alice", "bob", "carol"))
    created = Project.objects.create(name="created by alice", created_by=alice)
    Membership.objects.create(project=created, user=bob, role="manager")
    Membership.objects.create(project=created, user=alice, role="manager")
    Membership.objects.create(project=created, user=carol, role="annotator")
    orphan = Project.objects.create(name="creator gone")
    Membership.objects.create(project=orphan, user=bob, role="manager")
    Membership.objects.create(project=orphan, user=alice, role="manager")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    roles = {
        (m.project.name, m.user.username): m.role
        for m in new.get_model("annotate", "Membership").objects.select_related("project", "user")
    }
    assert roles == {
        ("created by alice", "alice"): "owner",
        ("created by alice", "bob"): "manager",
        ("created by alice", "carol"): "annotator",
        ("creator gone", "bob"): "owner",
        ("creator gone", "alice"): "manager",
    }
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
