"""Region names as people write them: "水果湖街办事处" is also "水果湖街道" and "水果湖"."""

# Longest first: the first matching suffix is removed.
SUFFIXES = (
    "社区居民委员会",
    "村民委员会",
    "街道办事处",
    "社区居委会",
    "村委会",
    "街办事处",
    "居委会",
    "办事处",
    "街道",
    "社区",
    "区",
    "镇",
    "乡",
)


def short_name(name: str) -> str:
    """Name without its administrative suffix, for display ("东亭社区居委会" → "东亭社区")."""
    for long, short in (("社区居委会", "社区"), ("社区居民委员会", "社区"), ("村民委员会", "村"), ("村委会", "村"),
                        ("街办事处", "街道"), ("街道办事处", "街道")):
        if name.endswith(long):
            return name[: -len(long)] + short
    return name


def name_aliases(name: str, level: str = "") -> dict[str, bool]:
    """Every form of a name worth matching in free text → whether it is strong on its own. A bare stem of a
    street or community ("火车站" of "火车站社区居委会") is weak: it is also a landmark or road name, so it only
    counts when an ancestor is named too. Forms shorter than two characters are dropped."""
    aliases = {name: True, short_name(name): True}
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            aliases.setdefault(stem, level in ("", "city", "district"))
            if suffix in ("街办事处", "街道办事处", "办事处"):
                aliases.update({stem + "街道": True, stem + "街": False})
            if suffix in ("社区居委会", "社区居民委员会", "居委会"):
                aliases[stem + "社区"] = True
            if suffix in ("村委会", "村民委员会"):
                aliases[stem + "村"] = True
            break
    return {a: strong for a, strong in aliases.items() if len(a) >= 2}
