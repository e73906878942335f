"""`POST /api/v1/issues/batch`: up to 100 reports in one request, answered one by one.

Each report is validated as `POST /issues` validates its body and stored as
`services.issue_report` stores it; a bad report gets its own problem and never
sinks the others. The write rate limit counts every report of the batch.
"""

import json
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from issues import services
from issues.api_base import ApiView
from issues.domain import CreateResult
from issues.schema import JSON, problems
from issues.serializers import IssueCreateInput, IssueOutput, StrictInput, reusable
from issuetracker.errors import ApplicationError
from issuetracker.exception_handler import response_for

# A batch holds at most this many reports.
BATCH_MAX = 100


class IssueBatchInput(StrictInput):
    """`POST /issues/batch`: up to BATCH_MAX reports, each as `POST /issues`
    takes it (validated one by one, in the view)."""

    reports = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=BATCH_MAX,
        help_text=f"1 to {BATCH_MAX} reports, each a body of `POST /issues`.",
    )


class BatchResultOutput(serializers.Serializer[Any]):
    """The answer to one report of a batch, in the order sent."""

    status = serializers.IntegerField(
        help_text="201 created, 200 folded or replayed, else the problem's status."
    )
    id = serializers.CharField(required=False, help_text="The issue's id.")
    issue = IssueOutput(required=False)
    problem = serializers.DictField(
        required=False, help_text="The problem+json body a single create would get."
    )


class BatchOutput(serializers.Serializer[Any]):
    """One result per report, in the order of `reports`."""

    results = BatchResultOutput(many=True)


def _problem(error: Exception) -> dict[str, Any]:
    """The problem+json body the project's one translator gives `error`."""
    response = response_for(error, None)
    body: dict[str, Any] = json.loads(response.content)
    return {"status": response.status_code, "problem": body}


class IssueBatchViewSet(ApiView):
    """Many reports in one request."""

    compat_actions = frozenset({"create"})

    def write_weight(self, request: Request) -> int:
        """Writes this request counts for against the rate limit: one a report."""
        data = request.data
        reports = data.get("reports") if isinstance(data, dict) else None
        return min(len(reports), BATCH_MAX) if isinstance(reports, list) else 1

    @extend_schema(
        operation_id="issues_batch_create",
        summary="Report up to 100 issues at once",
        description=(
            f"`reports` holds 1 to {BATCH_MAX} bodies of `POST /issues` (same "
            "fields, same validation, each with an optional client-chosen `id` "
            "and `occurrences`). The answer is 200 with one result per report, "
            "in order: `status` 201 (created) or 200 (folded into the reporter's "
            "open issue with that fingerprint, or a replay of a chosen id) with "
            "`id` and `issue`; or the status and problem+json body a single "
            "create would have answered (400, 403, 409, 503...). A bad report "
            "never sinks the others. Anonymous callers in compatibility mode name "
            "`reporter_id` in each report. The write rate limit counts each "
            "report; over it, the whole batch is 429 and nothing is stored."
        ),
        request={JSON: IssueBatchInput},
        responses={
            (200, JSON): OpenApiResponse(
                BatchOutput, description="One result per report, in order."
            ),
            **problems(400, 413, 415),
        },
        examples=[
            OpenApiExample(
                "Two reports, one bad",
                request_only=True,
                value={
                    "reports": [
                        {
                            "title": "KeyError in place_order",
                            "description": "Traceback ...",
                            "type": "bug",
                            "fingerprint": "3f9a...",
                            "occurrences": 12,
                        },
                        {"title": "", "description": "no title"},
                    ]
                },
            ),
            OpenApiExample(
                "Answer",
                response_only=True,
                value={
                    "results": [
                        {"status": 201, "id": "Xc9...", "issue": {"id": "Xc9..."}},
                        {
                            "status": 400,
                            "problem": {
                                "status": 400,
                                "code": "invalid",
                                "errors": {"title": ["This field may not be blank."]},
                            },
                        },
                    ]
                },
            ),
        ],
    )
    def create(self, request: Request) -> Response:
        """200 with one result per report, each validated and shown by one
        serializer instance (`reusable`, `many=True`), not one per report."""
        body = IssueBatchInput(data=request.data)
        body.is_valid(raise_exception=True)
        check = reusable(IssueCreateInput)
        answers: list[dict[str, Any] | None] = []
        accepted: list[tuple[int, Any, Any, int]] = []
        for report in body.validated_data["reports"]:
            try:
                validated = check.run_validation(report)
                actor, new = self.reported(request, validated)
            except (ApplicationError, serializers.ValidationError) as error:
                answers.append(_problem(error))
                continue
            accepted.append((len(answers), actor, new, validated["occurrences"]))
            answers.append(None)
        results = services.issue_report_batch(
            reports=[(actor, new, n) for _, actor, new, n in accepted]
        )
        stored = [r for r in results if isinstance(r, CreateResult)]
        shown = iter(IssueOutput([r.issue for r in stored], many=True).data)
        for (index, *_), result in zip(accepted, results, strict=True):
            answers[index] = (
                {
                    "status": 201 if result.created else 200,
                    "id": result.issue.id,
                    "issue": next(shown),
                }
                if isinstance(result, CreateResult)
                else _problem(result)
            )
        return Response({"results": answers})
