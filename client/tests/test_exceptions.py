"""report_exception and the logging handler: titles, tracebacks, stable fingerprints."""

import logging
import sys
from collections.abc import Callable
from typing import Any

import pytest
from issuetracker_client import IssueTrackerHandler, exception_fingerprint
from issuetracker_client.reports import DESCRIPTION_MAX, exception_description


def caught(call: Callable[..., object], *args: object) -> BaseException:
    """The exception `call(*args)` raises."""
    try:
        call(*args)
    except BaseException as exc:  # noqa: BLE001 - the point is to keep it
        return exc
    raise AssertionError("did not raise")


def place_order(order_id: str) -> None:
    validate(order_id)


def validate(order_id: str) -> None:
    raise ValueError(f"order {order_id} has no price")


def place_order_keyerror(order_id: str) -> None:
    raise KeyError(order_id)


def compiled(source: str, module: str) -> Callable[[], None]:
    """A function `f` defined by `source` as if in module `module`."""
    namespace: dict[str, Any] = {"__name__": module}
    exec(compile(source, f"/srv/{module}.py", "exec"), namespace)  # noqa: S102
    function: Callable[[], None] = namespace["f"]
    return function


def test_fingerprint_ignores_messages_and_line_numbers():
    first = caught(place_order, "ord-1")
    second = caught(place_order, "ord-2")
    before = compiled("def f():\n    raise ValueError('x')\n", "svc.orders")
    after = compiled(
        "\n\n\ndef f():\n    x = 1\n    raise ValueError(x)\n", "svc.orders"
    )

    assert exception_fingerprint(first) == exception_fingerprint(second)
    assert exception_fingerprint(first).startswith("py:")
    assert len(exception_fingerprint(first)) <= 200
    assert exception_fingerprint(caught(before)) == exception_fingerprint(caught(after))


def test_fingerprint_tells_types_and_places_apart():
    assert exception_fingerprint(caught(place_order, "a")) != exception_fingerprint(
        caught(place_order_keyerror, "a")
    )
    here = compiled("def f():\n    raise ValueError('x')\n", "svc.orders")
    there = compiled("def f():\n    raise ValueError('x')\n", "svc.billing")
    assert exception_fingerprint(caught(here)) != exception_fingerprint(caught(there))


def test_fingerprint_does_not_depend_on_recursion_depth():
    def down(n: int) -> None:
        if n == 0:
            raise RecursionError("deep")
        down(n - 1)

    assert exception_fingerprint(caught(down, 3)) == exception_fingerprint(
        caught(down, 30)
    )


def test_report_exception_sends_title_traceback_and_fingerprint(tracker, make_client):
    client = make_client(tracker.url, service_id="order-router")
    exc = caught(place_order, "ord-42")

    assert client.report_exception(exc, tags=["orders"], context="Routing ord-42")

    assert client.flush(2.0)
    [seen] = tracker.seen
    body = seen.body
    assert body["title"] == "ValueError in validate: order ord-42 has no price"
    assert body["type"] == "bug"
    assert body["priority"] == "high"
    assert body["tags"] == ["orders"]
    assert body["fingerprint"] == exception_fingerprint(exc)
    description = body["description"]
    assert description.startswith("Routing ord-42\n\n**ValueError**: order ord-42")
    assert "```text\nTraceback (most recent call last):" in description
    assert "in place_order\n" in description
    assert "Service: `order-router`" in description


def test_report_exception_defaults_to_the_exception_being_handled(tracker, make_client):
    client = make_client(tracker.url)

    try:
        place_order_keyerror("BTC-USD")
    except KeyError:
        assert client.report_exception(title="Lookup failed", priority="critical")

    assert client.flush(2.0)
    body = tracker.seen[0].body
    assert body["title"] == "Lookup failed"
    assert body["priority"] == "critical"
    assert "KeyError" in body["description"]


def test_a_huge_traceback_keeps_its_end_and_its_code_block():
    def fail() -> None:
        raise RuntimeError("m" * 30_000 + " the bottom " + "`" * 5)

    exc = caught(fail)
    context = "c" * 50_000

    text = exception_description(exc, context=context, service_id="svc")

    assert len(text) <= DESCRIPTION_MAX
    assert "characters in all" in text
    fence = "``````"  # longer than the backticks in the message
    assert f"{fence}text\nTraceback" in text
    assert text.rstrip().endswith("Python " + sys.version.split()[0])
    assert f"mmm the bottom {'`' * 5}\n{fence}\n\nService: `svc`" in text


def test_an_exception_that_cannot_print_itself_is_still_reported(tracker, make_client):
    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    client = make_client(tracker.url)

    assert client.report_exception(caught(lambda: (_ for _ in ()).throw(Broken())))

    assert client.flush(2.0)
    assert "<unprintable Broken>" in tracker.seen[0].body["title"]


# The logging handler


@pytest.fixture
def service_logger(tracker, make_client):
    client = make_client(tracker.url, service_id="risk-monitor")
    handler = IssueTrackerHandler(client, tags=["from-logs"])
    log = logging.getLogger("risk.monitor")
    log.addHandler(handler)
    yield log, client
    log.removeHandler(handler)


def test_handler_reports_errors_with_a_stable_fingerprint(tracker, service_logger):
    log, client = service_logger

    log.warning("Not reported: below ERROR")
    log.error("Exposure over limit for account %s", 1234)
    log.error("Exposure over limit for account %s", 5678)
    log.critical("Kill switch engaged")
    logging.getLogger("issuetracker_client").error("never reported back")

    assert client.flush(2.0)
    first, second, third = (seen.body for seen in tracker.seen)
    assert first["title"] == "Exposure over limit for account 1234"
    assert first["priority"] == "high"
    assert first["tags"] == ["from-logs"]
    assert "Logged by `risk.monitor` at ERROR" in first["description"]
    assert first["fingerprint"] == second["fingerprint"]
    assert third["priority"] == "critical"
    assert third["fingerprint"] != first["fingerprint"]


def test_handler_reports_exceptions_like_report_exception(tracker, service_logger):
    log, client = service_logger

    fingerprints = []
    for order in ("ord-1", "ord-2"):
        try:
            place_order(order)
        except ValueError as exc:
            log.exception("Could not place %s", order)
            fingerprints.append(exception_fingerprint(exc))

    assert client.flush(2.0)
    first, second = (seen.body for seen in tracker.seen)
    assert first["title"] == "Could not place ord-1"
    assert "Traceback (most recent call last):" in first["description"]
    assert first["fingerprint"] == second["fingerprint"]
    assert first["fingerprint"] == fingerprints[0]


def test_handler_never_raises_into_the_logging_call(tracker, make_client, capsys):
    client = make_client(tracker.url)
    handler = IssueTrackerHandler(client)
    record = logging.LogRecord(
        "risk", logging.ERROR, __file__, 1, "Bad format %d", ("not a number",), None
    )

    handler.handle(record)  # logging's own error path: a note on stderr

    assert client.flush(1.0)
    assert tracker.seen == []
    assert "Logging error" in capsys.readouterr().err
