"""Who hears of what: the pure rules."""

from notifications.domain import Kind, message, notification_id, recipients


def test_one_notification_per_person_with_the_strongest_kind():
    chosen = recipients(
        [
            (Kind.COMMENTED, ["ada", "bob", "cy"]),
            (Kind.MENTIONED, ["bob"]),
            (Kind.ASSIGNED, ["cy"]),
        ],
        actor_id="dan",
    )
    assert chosen == {"ada": Kind.COMMENTED, "bob": Kind.MENTIONED, "cy": Kind.ASSIGNED}


def test_the_actor_is_never_told_and_blank_ids_are_dropped():
    chosen = recipients([(Kind.ASSIGNED, ["ada", ""])], actor_id="ada")
    assert chosen == {}


def test_ids_are_stable_per_event_and_person():
    assert notification_id("e1", "ada") == notification_id("e1", "ada")
    assert notification_id("e1", "ada") != notification_id("e1", "bob")
    assert notification_id("e1", "ada") != notification_id("e2", "ada")


def test_messages_name_the_actor_and_the_issue():
    assert message(Kind.ASSIGNED, actor="Ada", title="Boom") == (
        "Ada assigned you to “Boom”"
    )
