"""Every page with a map draws the local base map (geo/templatetags/basemap.py, geo/static/geo/basemap.js)."""

from django.test import Client

from cityops.geo import index


def test_every_map_page_draws_the_base_map(wuhan, operator, client):
    """The base map's config and script are on every page with a map: the portal's report and case maps (public),
    the grid map, the intake page, a case page and the hotline's call screen."""
    from cityops.accounts.demo import load_roles
    from cityops.cases.demo import load_categories
    from cityops.cases.services import case_create

    load_roles()
    load_categories()
    node = next(n for n in index.get_index().nodes.values() if n.level == "community")
    case = case_create(actor=operator, category="E0101", lon=node.centroid_lon, lat=node.centroid_lat,
                       description="路边有暴露垃圾").case
    pages = ["/portal/report/", "/portal/map/"]
    for path in pages:
        html = Client().get(path).content.decode()
        assert 'id="basemap-config"' in html and "geo/basemap.js" in html, path
    client.force_login(operator)
    for path in ["/geo/", "/cases/new/", f"/cases/{case.code}/", "/hotline/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert 'id="basemap-config"' in html and "geo/basemap.js" in html, path
        assert html.index("leaflet/leaflet.js") < html.index("geo/basemap.js"), path
