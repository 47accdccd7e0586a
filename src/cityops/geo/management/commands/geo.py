"""`cityops geo import FILE --level LEVEL [--parent CODE]`, `cityops geo grid --parent CODE [--size 500]`,
`cityops geo demo`, `cityops geo locate LON LAT [--crs gcj02]`."""

from django.core.management.base import BaseCommand, CommandError

from cityops.core.errors import CityopsError
from cityops.core.progress import item_logs, progress

ACTIONS = {"import": "导入区域 / importing regions", "grid": "生成网格 / generating grids",
           "demo": "生成武汉演示地理 / building the Wuhan demo geography", "locate": "定位 / locating"}


class Command(BaseCommand):
    help = "地理区域：导入 GeoJSON、生成网格、加载武汉演示数据、坐标定位 / regions: import, grids, demo, locate"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="导入 GeoJSON 区域 / import regions from GeoJSON")
        imp.add_argument("file")
        imp.add_argument("--level", required=True, choices=["city", "district", "street", "community", "grid"])
        imp.add_argument("--parent", default=None, help="上级区域编码 / parent region code")
        grid = sub.add_parser("grid", help="按方格生成网格 / generate square grids")
        grid.add_argument("--parent", required=True, help="社区、街道、区或市的编码 / community, street, district or city code")
        grid.add_argument("--size", type=float, default=500, help="网格边长（米）/ cell size in metres")
        grid.add_argument("--replace", action="store_true", help="替换已有网格 / replace existing grids")
        demo = sub.add_parser("demo", help="加载武汉演示地理数据 / load the Wuhan demo geography")
        demo.add_argument("--grids-per-community", type=int, default=4)
        loc = sub.add_parser("locate", help="坐标定位 / locate a point")
        loc.add_argument("lon")
        loc.add_argument("lat")
        loc.add_argument("--crs", default="wgs84")

    def handle(self, *args, action, **options):
        item_logs(options["verbosity"])
        try:
            with progress(self.stdout, ACTIONS.get(action, action)) as step:
                self.step = step
                getattr(self, f"do_{action}")(**options)
        except CityopsError as exc:
            lines = [f"{exc.message} / {exc.message_en}"]
            for item in (exc.details or [])[1:] if isinstance(exc.details, list) else []:
                where = f"#{item['feature'] + 1} " if item.get("feature") is not None else ""
                lines.append(f"  {where}[{item['code']}] {item['message']} / {item['message_en']}")
            raise CommandError("\n".join(lines)) from exc

    def do_import(self, *, file, level, parent, **_):
        from cityops.geo.services import regions_import_geojson

        created = regions_import_geojson(path_or_data=file, level=level, parent_code=parent, actor=None,
                                         source=f"GeoJSON: {file}")
        self.stdout.write(self.style.SUCCESS(f"已导入 {len(created)} 个区域 / imported {len(created)} regions"))

    def do_grid(self, *, parent, size, replace, **_):
        from cityops.geo.services import grids_generate

        created = grids_generate(parent_code=parent, size_m=size, replace=replace, actor=None)
        self.stdout.write(self.style.SUCCESS(f"已生成 {len(created)} 个网格 / generated {len(created)} grids"))

    def do_demo(self, *, grids_per_community, **_):
        from cityops.geo.demo import load_demo_geography

        counts = load_demo_geography(stdout=self.step, grids_per_community=grids_per_community)
        self.stdout.write(self.style.SUCCESS(str(counts)))

    def do_locate(self, *, lon, lat, crs, **_):
        import json

        from cityops.geo.selectors import locate_point

        self.stdout.write(json.dumps(locate_point(lon=lon, lat=lat, crs=crs).as_dict(), ensure_ascii=False))
