"""Account use cases: who the caller is, roles, service users and API keys.

Views, the API, the admin and management commands call these; none of them holds
an account rule of its own. One module per concern; callers import the module
they need (`from accounts.services import api_keys`), never this package:

- `domains`: which e-mail domains belong to staff.
- `google`: the Google sign-in check and the staff profile it refreshes.
- `compat`: the API's compatibility mode, where anonymous callers act as the
  service they name. Security-sensitive; kept apart so it reads (and goes) alone.
- `users`: users and roles, the last-admin guard, listings.
- `api_keys`: issuing, checking and revoking service keys.
- `dev_admin`: the development-only local admin and password login.
- `legacy_import`: the import of the old app's users.
"""
