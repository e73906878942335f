"""The portal keeps working when the cache (Redis) does not answer."""


def test_dashboard_and_its_chart_render_when_the_cache_is_down(
    client, developer, make_issue, cache_down
):
    make_issue(developer, title="Counted without a cache")
    client.force_login(developer)
    page = client.get("/")
    assert page.status_code == 200
    chart = client.get("/dashboard/chart/")
    assert chart.status_code == 200
