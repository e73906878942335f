"""The portal's assignee and reporter suggestions read usernames, not user rows."""

import pytest

from accounts.roles import Role
from issues.views import people_suggestions

pytestmark = pytest.mark.django_db


def test_suggestions_are_active_staff_read_as_one_column(
    make_user, django_assert_num_queries
):
    make_user(role=Role.DEVELOPER, username="dev@quantory.app")
    make_user(role=Role.VIEWER, username="off@quantory.app", is_active=False)
    make_user(role=Role.SERVICE, username="workflow-consumer")

    with django_assert_num_queries(1) as captured:
        people = people_suggestions()

    assert people == ["dev@quantory.app"]
    sql = captured.captured_queries[0]["sql"]
    assert "password" not in sql
    assert "is_active" in sql.split("WHERE", 1)[1]
