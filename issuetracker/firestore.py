"""The process's Firestore client and the call options every Firestore call passes."""

import functools
from typing import Any

from django.conf import settings
from google.api_core import exceptions as google_exceptions
from google.api_core.retry import Retry, if_exception_type
from google.cloud import firestore

# Errors worth one more try within the call's deadline; anything else is final.
_TRANSIENT = if_exception_type(
    google_exceptions.ServiceUnavailable,
    google_exceptions.DeadlineExceeded,
    google_exceptions.InternalServerError,
    google_exceptions.Aborted,
)


@functools.cache
def get_client() -> firestore.Client:
    """Return the process's client, created on first use.

    The library itself switches to the emulator (anonymous credentials, plain
    channel) when FIRESTORE_EMULATOR_HOST is set; otherwise it uses Application
    Default Credentials.
    """
    return firestore.Client(
        project=settings.GOOGLE_CLOUD_PROJECT, database=settings.FIRESTORE_DATABASE
    )


def call_options(*, timeout: float | None = None) -> dict[str, Any]:
    """Keyword arguments bounding one Firestore call: a timeout and a short retry.

    The retry's deadline equals the timeout, so no call (retries included) holds a
    worker longer than FIRESTORE_TIMEOUT seconds.
    """
    seconds = settings.FIRESTORE_TIMEOUT if timeout is None else timeout
    retry = Retry(
        predicate=_TRANSIENT, initial=0.1, maximum=1.0, multiplier=2.0, timeout=seconds
    )
    return {"timeout": seconds, "retry": retry}
