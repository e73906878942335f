"""Which e-mail addresses belong to staff: ALLOWED_EMAIL_DOMAINS, exactly."""

from django.conf import settings


def email_domain(email: str) -> str:
    """The lower-cased part after the last `@`, or "" when there is none."""
    local, at, domain = email.strip().rpartition("@")
    return domain.lower() if at and local else ""


def email_is_allowed(email: str) -> bool:
    """Whether the address is on one of ALLOWED_EMAIL_DOMAINS, exactly."""
    return email_domain(email) in settings.ALLOWED_EMAIL_DOMAINS


def email_is_on_allowed_domain_or_below(email: str) -> bool:
    """Whether the address is on an allowed domain or any subdomain of one."""
    domain = email_domain(email)
    return any(
        domain == allowed or domain.endswith(f".{allowed}")
        for allowed in settings.ALLOWED_EMAIL_DOMAINS
    )
