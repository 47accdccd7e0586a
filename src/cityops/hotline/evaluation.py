"""Held-out accuracy of the classifier on the test split of the shipped corpus (never used in training)."""

from cityops.hotline import corpus


def held_out_accuracy(model) -> dict:
    rows = [r for r in corpus.load_rows() if r["split"] == "test"]
    tops = model.top_many([r["text"] for r in rows], k=3)
    result: dict = {"samples": len(rows)}
    for name, keep in (("all", lambda r: True), ("phrasings", lambda r: "-g" not in r["group"]),
                       ("patterns", lambda r: "-g" in r["group"])):
        pairs = [(r, t) for r, t in zip(rows, tops, strict=True) if keep(r)]
        if not pairs:
            continue
        result[name] = {
            "samples": len(pairs),
            "top1": round(sum(t[0] == r["category"] for r, t in pairs) / len(pairs), 4),
            "top3": round(sum(r["category"] in t for r, t in pairs) / len(pairs), 4),
        }
    return result
