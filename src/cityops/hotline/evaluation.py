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


def uncertainty(model, threshold: float | None = None) -> dict:
    """Issue 12 §7: the share of held-out non-city calls (data/noncity_heldout.txt, never trained on) that come
    back uncertain, and on the held-out city calls (corpus test split) the top-1 accuracy, the share answered
    right (not uncertain and top-1 right: an uncertain call counts as a miss), the share uncertain, and the mean
    top-1 probability beside the accuracy (calibration)."""
    from cityops.hotline.classifier import uncertain_below

    threshold = uncertain_below() if threshold is None else threshold
    rows = [r for r in corpus.load_rows() if r["split"] == "test"]
    city = model.assess_many([r["text"] for r in rows], threshold=threshold)
    noncity_texts = corpus.noncity_held_out()
    noncity = model.assess_many(noncity_texts, threshold=threshold)
    right = [a.top[0][0] == r["category"] for a, r in zip(city, rows, strict=True)]
    n = len(rows)
    return {
        "threshold": threshold,
        "noncity": {"samples": len(noncity), "uncertain": round(sum(a.uncertain for a in noncity) / len(noncity), 4)},
        "city": {
            "samples": n,
            "top1": round(sum(right) / n, 4),
            "answered_right": round(sum(ok and not a.uncertain for ok, a in zip(right, city, strict=True)) / n, 4),
            "uncertain": round(sum(a.uncertain for a in city) / n, 4),
            "mean_top1_probability": round(sum(a.top[0][1] for a in city) / n, 4),
        },
    }
