"""Suggest latency (in-process and over HTTP through the Django test client) and held-out accuracy.

    DJANGO_SETTINGS_MODULE=cityops.settings .venv/bin/python bench/suggest.py [--n 1000]

Needs the demo geography (`cityops load_demo`); the classifier is trained on first use if missing.
Prints the held-out accuracy and (issue 12 §7) the share of held-out non-city calls that come back uncertain
(data/noncity_heldout.txt, never trained on) beside the held-out city calls answered right.
Texts and addresses are drawn from the held-out corpus split and a list of Wuhan addresses, so address
parsing (cpca + region names + gazetteer) is part of the measured time; the address cache is cleared before
each run so the first sight of every address is measured too (and then its repeats).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")

import django  # noqa: E402

django.setup()

from cityops.geo import address  # noqa: E402
from cityops.hotline import classifier, corpus, selectors  # noqa: E402
from cityops.hotline.evaluation import held_out_accuracy, uncertainty  # noqa: E402

ADDRESSES = [
    "武昌区中南路街道", "江汉区解放大道1277号", "汉口火车站附近", "光谷广场", "户部巷旁边", "武倡区水果湖",
    "乔口区宗关街道", "江岸大智街吉庆社区", "楚河汉街", "古琴台对面", "黎黄陂路", "中南路附近", "", "就在那个老地方",
]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def report(name, seconds):
    ms = [s * 1000 for s in seconds]
    print(f"{name:34s} n={len(ms):5d}  p50 {pct(ms, 50):6.2f} ms  p90 {pct(ms, 90):6.2f} ms  "
          f"p99 {pct(ms, 99):6.2f} ms  max {max(ms):7.2f} ms  mean {statistics.mean(ms):6.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(4)
    texts = [t for t, _c in corpus.load("test")]
    calls = [(rng.choice(texts), rng.choice(ADDRESSES)) for _ in range(args.n)]

    started = time.perf_counter()
    model = classifier.get_model()
    print(f"model ready in {time.perf_counter() - started:.1f} s ({model.samples} texts, "
          f"{model.corrections} corrections; train time {model.meta.get('train_seconds', '?')} s when trained)")
    acc = held_out_accuracy(model)
    print("held-out accuracy:", json.dumps(acc, ensure_ascii=False))
    if hasattr(model, "assess_many"):  # issue 12 §7
        unc = uncertainty(model)
        print(f"uncertain at threshold {unc['threshold']}: held-out non-city calls {unc['noncity']['uncertain']:.1%} "
              f"of {unc['noncity']['samples']} (target ≥ 95 %); held-out city calls top-1 {unc['city']['top1']:.2%}, "
              f"answered right {unc['city']['answered_right']:.2%} (target ≥ 90 %), uncertain "
              f"{unc['city']['uncertain']:.1%}, mean top-1 probability {unc['city']['mean_top1_probability']:.3f}")
        for threshold in (0.3, 0.5):
            other = uncertainty(model, threshold)
            print(f"  at threshold {threshold}: non-city uncertain {other['noncity']['uncertain']:.1%}, city answered "
                  f"right {other['city']['answered_right']:.2%}")

    for text, addr in calls[:20]:  # warm-up: jieba, cpca/pandas, geo index
        selectors.suggest(text=text, address=addr)

    timings = []
    for text, _addr in calls:
        t0 = time.perf_counter()
        model.top(text, k=3)
        timings.append(time.perf_counter() - t0)
    report("classifier only (in-process)", timings)

    address._cache.clear()
    timings = []
    for text, addr in calls:
        t0 = time.perf_counter()
        selectors.suggest(text=text, address=addr)
        timings.append(time.perf_counter() - t0)
    report("suggest() in-process", timings)

    address._cache.clear()
    timings = []
    for _text, addr in calls:
        if not addr:
            continue
        address._cache.clear()
        t0 = time.perf_counter()
        address.parse_address(addr)
        timings.append(time.perf_counter() - t0)
    report("address parse, uncached", timings)

    from django.test import Client

    from cityops.accounts.models import User

    user = User.objects.filter(groups__name="operator").first() or User.objects.filter(is_superuser=True).first()
    if user is None:
        print("no operator user (run `cityops load_demo`): HTTP part skipped")
        return
    client = Client()
    client.force_login(user)
    address._cache.clear()
    timings = []
    for text, addr in calls:
        body = json.dumps({"text": text, "address": addr})
        t0 = time.perf_counter()
        response = client.post("/api/v1/dispatch/suggest", data=body, content_type="application/json",
                               HTTP_X_CSRFTOKEN="x")
        timings.append(time.perf_counter() - t0)
        if response.status_code != 200:
            print("HTTP", response.status_code, response.content[:200])
            return
    report("POST /api/v1/dispatch/suggest", timings)


if __name__ == "__main__":
    main()
