"""Issue reads for the API, the portal and commands: one function per page or list.

- `issues`: one issue, lists, counts, an issue's comments and history.
- `dashboard`: the portal's dashboard and its 30-day chart.
- `issue_page`: the portal's issue page (the issue and its timeline).
- `trash`: the trash, for admins.

Every function takes keyword-only arguments and checks the caller's role through
`accounts.policy`; NotFound (404) for what the caller may not see.
"""
