from django.test import override_settings

from issuetracker.firestore import call_options, get_client


def test_client_talks_to_the_emulator(firestore_db, firestore_emulator):
    assert get_client() is firestore_db, "one client per process"
    assert firestore_db._emulator_host == firestore_emulator.address
    document = firestore_db.collection("probe").document("one")
    document.set({"value": 1}, **call_options())
    assert document.get(**call_options()).to_dict() == {"value": 1}


def test_each_test_starts_from_empty_data(firestore_db):
    assert list(firestore_db.collection("probe").stream(**call_options())) == []


@override_settings(FIRESTORE_TIMEOUT=1.5)
def test_call_options_bound_every_call_by_the_configured_timeout():
    options = call_options()
    assert options["timeout"] == 1.5
    assert options["retry"].timeout == 1.5
    assert call_options(timeout=0.5)["retry"].timeout == 0.5
