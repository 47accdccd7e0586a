"""Region names as people write and say them: "水果湖街办事处" is also "水果湖街道", "水果湖街办", "水果湖街" and
"水果湖"; "东亭社区居委会" is also "东亭社区"."""

# Longest first: the first matching suffix is removed.
SUFFIXES = (
    "街道管理委员会",
    "社区居民委员会",
    "社区委员会",
    "居民委员会",
    "村民委员会",
    "街道办事处",
    "社区居委会",
    "村委会",
    "街办事处",
    "居委会",
    "办事处",
    "管委会",
    "街道",
    "社区",
    "区",
    "镇",
    "乡",
)
# A street office (街道办事处) is said "XX街道", "XX街办" or "XX街"; a residents' committee "XX社区".
STREET_OFFICE_SUFFIXES = ("街道管理委员会", "街道办事处", "街办事处", "办事处", "街道")
COMMITTEE_SUFFIXES = ("社区居民委员会", "社区委员会", "居民委员会", "社区居委会", "居委会")
VILLAGE_SUFFIXES = ("村民委员会", "村委会")


def short_name(name: str) -> str:
    """Name without its administrative suffix, for display ("东亭社区居委会" → "东亭社区")."""
    for long, short in (("社区居委会", "社区"), ("社区居民委员会", "社区"), ("村民委员会", "村"), ("村委会", "村"),
                        ("街办事处", "街道"), ("街道办事处", "街道")):
        if name.endswith(long):
            return name[: -len(long)] + short
    return name


def name_aliases(name: str, level: str = "") -> dict[str, bool]:
    """Every form of a name worth matching in free text → whether it is strong on its own.

    Strong: the full name and the short spoken forms (XX街道, XX街办, XX街 of a street office whose stem has two
    characters or more; XX社区 of a residents' committee; XX村 of a village committee). A bare stem of a street or
    community ("火车站" of "火车站社区居委会", "中南路" of "中南路街办事处") is weak: it is also a landmark or road
    name, so it only counts when an ancestor is named too. Forms shorter than two characters are dropped."""
    aliases = {name: True, short_name(name): True}
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            aliases.setdefault(stem, level in ("", "city", "district"))
            if suffix in STREET_OFFICE_SUFFIXES and stem:
                aliases.update({stem + "街道": True, stem + "街办": True})
                aliases.setdefault(stem + "街", len(stem) >= 2)
            if suffix in COMMITTEE_SUFFIXES and stem:
                aliases[stem if stem.endswith("社区") else stem + "社区"] = True
            if suffix in VILLAGE_SUFFIXES and stem:
                aliases[stem + "村"] = True
            break
    return {a: strong for a, strong in aliases.items() if len(a) >= 2}
