"""Report bugs to the AlphaFusion Issue Tracker from a service without blocking it.

    from issuetracker_client import IssueTrackerClient

    tracker = IssueTrackerClient("https://issues.quantory.app", api_key)
    tracker.report_issue("Stale quotes", "No tick for 30 s", priority="critical")
    try:
        ...
    except Exception as exc:
        tracker.report_exception(exc, tags=["orders"])

The old app's calls work too (`IssueTrackerClient()` reads ISSUETRACKER_URL,
ISSUETRACKER_API_KEY and ISSUETRACKER_SERVICE_ID):

    client = IssueTrackerClient()
    issue_id = client.log_issue("Error in workflow", "Failed at step X")
    client.add_comment(issue_id, "Fixed in commit abc123")
    client.update_issue_status(issue_id, "resolved")

Standard library only. See README.md for the delivery rules.
"""

from issuetracker_client._version import __version__
from issuetracker_client.client import ClientStats, IssueTrackerClient
from issuetracker_client.handler import IssueTrackerHandler
from issuetracker_client.reports import exception_fingerprint

__all__ = [
    "ClientStats",
    "IssueTrackerClient",
    "IssueTrackerHandler",
    "__version__",
    "exception_fingerprint",
]
