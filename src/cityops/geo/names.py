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


def name_aliases(name: str) -> set[str]:
    """Every form of a name worth matching in free text; forms shorter than two characters are dropped
    because they match far too much."""
    aliases = {name, short_name(name)}
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            aliases.add(stem)
            if suffix in ("街办事处", "街道办事处", "办事处"):
                aliases.update({stem + "街道", stem + "街"})
            if suffix in ("社区居委会", "社区居民委员会", "居委会"):
                aliases.add(stem + "社区")
            if suffix in ("村委会", "村民委员会"):
                aliases.add(stem + "村")
            break
    return {a for a in aliases if len(a) >= 2}
