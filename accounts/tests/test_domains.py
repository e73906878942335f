import pytest

from accounts.services.domains import email_is_allowed

pytestmark = pytest.mark.django_db


class TestEmailDomain:
    @pytest.mark.parametrize(
        ("email", "allowed"),
        [
            ("x@quantory.app", True),
            ("X@Quantory.App", True),
            ("x@quantory.app.evil.com", False),
            ("x@evilquantory.app", False),
            ("x@sub.quantory.app", False),
            ("quantory.app", False),
            ("@quantory.app", False),
            ("x@", False),
        ],
    )
    def test_exact_domain_match(self, email, allowed):
        assert email_is_allowed(email) is allowed
