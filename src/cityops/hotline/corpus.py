"""The training corpus of hotline utterances: generated deterministically from data/phrasings.json.

    python -m cityops.hotline.corpus          # rewrites data/corpus.jsonl

data/phrasings.json is what callers say (data/README.md). Each category has *phrasings* — one way of describing
the problem each, in a mini-language where `{a|b|c}` picks one alternative (an empty alternative is allowed) —
and a lexicon of object and problem words. Confusable categories share vocabulary on purpose (噪声扰民 vs
夜间施工扰民; 暴露垃圾 vs 积存垃圾渣土 vs 垃圾桶破损; 道路积水 vs 井盖 vs 停水 …).

Every utterance = a phrasing of the problem (alternatives picked at random) wrapped in category-independent
call speech: an opener ("喂，你好，"), an address (one of the city's roads, areas or landmarks), since when, a
closer ("你们么样不管撒？"), or nothing but the bare problem (as an operator would type it).

Besides its own phrasings, each category fills twelve category-independent generic patterns ("我要反映<O><P>的问题")
with its lexicon of objects (<O>) and problems (<P>).

Held-out split: the *template* is the unit, so every phrasing is written to be a different sentence pattern,
not a re-wording of another one. Every fourth phrasing of each category and every fourth generic pattern
(positions 2, 6, 10) go to the test split with all their variants, so no test sentence is a re-wording of a
training sentence. What the two splits still share: the vocabulary of the category (井盖, 渣土车 …, as real calls
do) and the call speech around it. The held-out score therefore measures generalisation to new sentence
patterns, not to new vocabulary.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CORPUS_PATH = DATA / "corpus.jsonl"
PHRASINGS_PATH = DATA / "phrasings.json"
NONCITY_PATH = DATA / "noncity.json"
NONCITY_HELD_OUT_PATH = DATA / "noncity_heldout.txt"
NOT_CITY = "NONCITY"  # the label of calls that are no city-management matter
VARIANTS_PER_NONCITY = 6
VARIANTS_PER_PHRASING = 8
VARIANTS_PER_GENERIC = 4
SEED = 12345
_CHOICE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Phrasings:
    """data/phrasings.json, read once."""

    phrasings: dict[str, list[str]]  # category code → its own phrasings
    lexicon: dict[str, tuple[list[str], list[str]]]  # category code → (objects, problems)
    generic: list[str]  # patterns over the lexicon: <O> an object, <P> a problem
    speech: dict[str, list[str]]  # openers, closers, since, places, roads, areas, landmarks


@lru_cache(maxsize=1)
def phrasings() -> Phrasings:
    with PHRASINGS_PATH.open(encoding="utf-8") as f:
        data = json.load(f)
    categories = data["categories"]
    return Phrasings(
        phrasings={code: c["phrasings"] for code, c in categories.items()},
        lexicon={code: (c["objects"], c["problems"]) for code, c in categories.items()},
        generic=data["generic"],
        speech=data["speech"],
    )


def is_held_out(position: int) -> bool:
    return position % 4 == 2


def expand(template: str, rng: random.Random) -> str:
    """Pick one alternative of every {a|b|c} (an empty alternative means: nothing)."""
    return _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)


def address(rng: random.Random) -> str:
    speech = phrasings().speech
    kind = rng.random()
    if kind < 0.4:
        road = rng.choice(speech["roads"])
        if rng.random() < 0.5:
            road += f"{rng.randint(1, 1500)}号"
        return road + rng.choice(["", "附近", "旁边", "这里", "那一段"])
    if kind < 0.7:
        return rng.choice(speech["areas"]) + rng.choice(["", "这边", "里面"])
    return rng.choice(speech["landmarks"]) + rng.choice(["附近", "旁边", "对面", "那里", "出口那里"])


def utterance(body: str, rng: random.Random) -> str:
    """Wrap the problem in call speech, in one of several shapes (short typed note … long emotional call)."""
    speech = phrasings().speech
    shape = rng.random()
    opener = rng.choice(speech["openers"]).replace("{place}", rng.choice(speech["places"]))
    closer = rng.choice(speech["closers"])
    if shape < 0.15:
        return body
    if shape < 0.35:
        return f"{address(rng)}{rng.choice(['', '，', ' '])}{body}"
    if shape < 0.65:
        where = rng.choice(["", f"在{address(rng)}，", f"{address(rng)}这里，", f"就在{address(rng)}，"])
        return f"{opener}{where}{body}{closer}"
    if shape < 0.82:
        return f"{opener}{body}，地址是{address(rng)}{closer or '。'}"
    since = rng.choice(speech["since"])
    return f"{since}{body}，{rng.choice(['一直这样', '没人管', '我们都反映过'])}{closer}"


def _templates(code: str):
    """(group, position, template) of a category: its own phrasings, then the generic patterns filled with
    its lexicon (objects as <O>, problems as <P>)."""
    material = phrasings()
    for position, template in enumerate(material.phrasings[code]):
        yield f"{code}-{position:02d}", position, template, VARIANTS_PER_PHRASING
    objects, problems = material.lexicon[code]
    filled_o, filled_p = "{" + "|".join(objects) + "}", "{" + "|".join(problems) + "}"
    for position, template in enumerate(material.generic):
        yield f"{code}-g{position:02d}", position, template.replace("<O>", filled_o).replace("<P>", filled_p), \
            VARIANTS_PER_GENERIC


def generate() -> list[dict]:
    rows: list[dict] = []
    seen: set[str] = set()
    for code in sorted(phrasings().phrasings):
        for group, position, template, variants in _templates(code):
            # One generator per template: editing one phrasing leaves every other one's sentences unchanged.
            digest = hashlib.sha256(f"{SEED}:{group}".encode()).hexdigest()
            rng = random.Random(int(digest[:16], 16))
            made = attempts = 0
            while made < variants and attempts < variants * 20:
                attempts += 1
                text = utterance(expand(template, rng), rng)
                if text in seen:
                    continue
                seen.add(text)
                made += 1
                rows.append({
                    "text": text,
                    "category": code,
                    "group": group,
                    "split": "test" if is_held_out(position) else "train",
                })
    return rows


def write(path: Path = CORPUS_PATH) -> Counter:
    rows = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    load_rows.cache_clear()
    return Counter(row["split"] for row in rows)


@lru_cache(maxsize=1)
def load_rows() -> tuple[dict, ...]:
    with CORPUS_PATH.open(encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def load(split: str | None = None) -> list[tuple[str, str]]:
    """(text, category) pairs of the shipped corpus, of one split ("train", "test") or all."""
    return [(r["text"], r["category"]) for r in load_rows() if split is None or r["split"] == split]


@lru_cache(maxsize=1)
def noncity_rows() -> tuple[dict, ...]:
    """Training calls that are no city matter (label NOT_CITY): every template of data/noncity.json, in the same
    call speech as the city corpus (so that "喂，你好" or an address says nothing about the class), generated
    deterministically. All of them are training material: the held-out set is data/noncity_heldout.txt."""
    with NONCITY_PATH.open(encoding="utf-8") as f:
        templates = json.load(f)["templates"]
    rows = []
    for position, template in enumerate(templates):
        group = f"{NOT_CITY}-{position:02d}"
        rng = random.Random(int(hashlib.sha256(f"{SEED}:{group}".encode()).hexdigest()[:16], 16))
        seen: set[str] = set()
        for _attempt in range(VARIANTS_PER_NONCITY * 20):
            if len(seen) == VARIANTS_PER_NONCITY:
                break
            body = expand(template, rng)
            text = body if rng.random() < 0.4 else utterance(body, rng)
            if text not in seen:
                seen.add(text)
                rows.append({"text": text, "category": NOT_CITY, "group": group, "split": "train"})
    return tuple(rows)


def noncity_held_out() -> list[str]:
    """data/noncity_heldout.txt: non-city calls for evaluation only (never trained on)."""
    with NONCITY_HELD_OUT_PATH.open(encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def fingerprint() -> str:
    digest = hashlib.sha256(CORPUS_PATH.read_bytes())
    digest.update(NONCITY_PATH.read_bytes())
    return digest.hexdigest()[:16]


if __name__ == "__main__":  # pragma: no cover
    counts = write()
    print(f"wrote {CORPUS_PATH}: {dict(counts)}")
