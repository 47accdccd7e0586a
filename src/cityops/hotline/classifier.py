"""Complaint text → category: character uni- and bigrams, TF-IDF, a linear SVM; scores are a softmax over the
SVM's decision values with a temperature fitted on held-out phrasings, so that a score is a probability.

Features and C were chosen by 4-fold cross-validation on the *train* split grouped by phrasing (whole templates
left out, as in the held-out split): char_wb (1, 2) beat (1, 3) and (1, 4), and adding jieba words (1, 2) lowered
new-phrasing accuracy (86.8 → 88.8 % top-1 without them) while doubling the training time.

Calibration (issue 12 §7): a quarter of the training templates (whole phrasings) is left out, the SVM is fitted
on the rest, and the temperature that minimises the log-loss of the left-out quarter is kept; then the SVM is
fitted again on everything. One extra fit instead of CalibratedClassifierCV's several.

Besides the categories, the model knows calls that are no city matter (corpus.NOT_CITY: chit-chat,
consultations for other services, data/noncity.json). A call is *uncertain* when that class wins or the best
category's probability is below the threshold (settings.CITYOPS_HOTLINE_UNCERTAIN_BELOW): the operator chooses.

Trained on the shipped corpus (train split only; the test split and data/noncity_heldout.txt stay unseen) plus
operators' corrections, which weigh CORRECTION_WEIGHT times a corpus sentence so that one correction changes what
that phrasing gets. The model is a file under DATA_DIR/hotline/, loaded once per process and reloaded when another
process (`cityops dispatch retrain`, the periodic task) replaces it; trained on first use when missing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from django.conf import settings

from cityops.hotline.corpus import NOT_CITY

log = logging.getLogger(__name__)

MODEL_VERSION = 4  # bump when features or estimator change: older files are retrained
CORRECTION_WEIGHT = 8.0
UNCERTAIN_BELOW = 0.4  # default of settings.CITYOPS_HOTLINE_UNCERTAIN_BELOW (bench/suggest.py)
CALIBRATION_SHARE = 4  # one template in this many is left out to fit the temperature
_PUNCT = re.compile(r"[\s，。！？、；：,.!?;:“”\"'‘’（）()【】\[\]…~～\-—·/]+")
_DIGITS = re.compile(r"\d+")


def normalize(text: str) -> str:
    """Full-width → half-width, every number → 0, punctuation → space (char_wb n-grams stop at clauses)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _DIGITS.sub("0", text)
    return _PUNCT.sub(" ", text).strip()


def words(text: str) -> list[str]:  # pragma: no cover
    """Gone with the jieba word features; kept because model files of version ≤ 2 refer to it by name, so they
    still unpickle and are then replaced for their version (instead of logging an unreadable-file traceback)."""
    raise NotImplementedError


def build_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    features = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True)
    return Pipeline([("features", features), ("classifier", LinearSVC(C=0.5, random_state=0))])


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = temperature * (scores - scores.max(axis=1, keepdims=True))
    np.exp(z, out=z)
    return z / z.sum(axis=1, keepdims=True)


def uncertain_below() -> float:
    return float(getattr(settings, "CITYOPS_HOTLINE_UNCERTAIN_BELOW", UNCERTAIN_BELOW))


@dataclass(frozen=True)
class Assessment:
    """What the model says of one call: the k best categories (city categories only) with their probability,
    the probability that it is no city matter, and whether the operator must decide."""

    top: list[tuple[str, float]]
    not_city: float
    uncertain: bool


@dataclass
class Model:
    pipeline: object
    classes: list[str]
    fingerprint: str
    trained_at: float
    samples: int
    corrections: int
    temperature: float = 8.0
    version: int = MODEL_VERSION
    meta: dict = field(default_factory=dict)

    def proba(self, normalized: list[str]) -> np.ndarray:
        return softmax(np.asarray(self.pipeline.decision_function(normalized), dtype=float), self.temperature)

    def _city_order(self, proba: np.ndarray) -> np.ndarray:
        """Column order best first, without the not-a-city-matter class."""
        proba = proba.copy()
        if NOT_CITY in self.classes:
            proba[..., self.classes.index(NOT_CITY)] = -1.0
        return np.argsort(-proba, axis=-1)

    def top(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The k most likely categories with their probability, best first."""
        return self.assess(text, k=k).top

    def assess(self, text: str, k: int = 3, threshold: float | None = None) -> Assessment:
        return self.assess_many([text], k=k, threshold=threshold)[0]

    def assess_many(self, texts: list[str], k: int = 3, threshold: float | None = None) -> list[Assessment]:
        threshold = uncertain_below() if threshold is None else threshold
        proba = self.proba([normalize(t) for t in texts])
        orders = self._city_order(proba)[:, :k]
        nc = self.classes.index(NOT_CITY) if NOT_CITY in self.classes else None
        out = []
        for row, order in zip(proba, orders, strict=True):
            top = [(self.classes[i], float(row[i])) for i in order]
            not_city = float(row[nc]) if nc is not None else 0.0
            best = top[0][1] if top else 0.0
            out.append(Assessment(top, not_city, not_city >= best or best < threshold))
        return out

    def top_many(self, texts: list[str], k: int = 3) -> list[list[str]]:
        return [[c for c, _p in a.top] for a in self.assess_many(texts, k=k)]


def model_dir() -> Path:
    return Path(settings.DATA_DIR) / "hotline"


def model_path() -> Path:
    return model_dir() / "classifier.joblib"


def training_set(corrections: list[tuple[str, str]] | None = None):
    """Texts, labels, weights and groups (the template of each text): the corpus train split, the non-city
    calls of data/noncity.json, then the corrections (latest per text wins)."""
    from cityops.hotline import corpus

    texts, labels, weights, groups = [], [], [], []
    for row in (*(r for r in corpus.load_rows() if r["split"] == "train"), *corpus.noncity_rows()):
        texts.append(normalize(row["text"]))
        labels.append(row["category"])
        weights.append(1.0)
        groups.append(row["group"])
    latest: dict[str, str] = {}
    for text, category in corrections or []:
        latest[normalize(text)] = category
    for text, category in latest.items():
        if text:
            texts.append(text)
            labels.append(category)
            weights.append(CORRECTION_WEIGHT)
            groups.append("correction")
    return texts, labels, np.asarray(weights), groups, len(latest)


def fingerprint_of(corrections: list[tuple[str, str]] | None) -> str:
    from cityops.hotline import corpus

    digest = hashlib.sha256(f"v{MODEL_VERSION}:{corpus.fingerprint()}".encode())
    for text, category in corrections or []:
        digest.update(f"\n{normalize(text)}\t{category}".encode())
    return digest.hexdigest()[:20]


def fit_temperature(texts, labels, weights, groups) -> float:
    """The softmax temperature that minimises the log-loss of templates left out of the fit (every
    CALIBRATION_SHARE-th template by a stable hash; corrections always stay in the fit)."""
    from scipy.optimize import minimize_scalar

    def left_out(group: str) -> bool:
        return group != "correction" and int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % CALIBRATION_SHARE == 0

    held = np.array([left_out(g) for g in groups])
    fit_idx, held_idx = np.flatnonzero(~held), np.flatnonzero(held)
    pipeline = build_pipeline()
    pipeline.fit([texts[i] for i in fit_idx], [labels[i] for i in fit_idx],
                 classifier__sample_weight=weights[fit_idx])
    classes = list(pipeline.classes_)
    known = [i for i in held_idx if labels[i] in classes]
    scores = np.asarray(pipeline.decision_function([texts[i] for i in known]), dtype=float)
    truth = np.array([classes.index(labels[i]) for i in known])

    def nll(t: float) -> float:
        z = t * (scores - scores.max(axis=1, keepdims=True))
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[np.arange(len(truth)), truth]))

    return float(minimize_scalar(nll, bounds=(0.1, 100.0), method="bounded").x)


def train(corrections: list[tuple[str, str]] | None = None) -> Model:
    texts, labels, weights, groups, n_corrections = training_set(corrections)
    started = time.perf_counter()
    temperature = fit_temperature(texts, labels, weights, groups)
    pipeline = build_pipeline()
    pipeline.fit(texts, labels, classifier__sample_weight=weights)
    seconds = time.perf_counter() - started
    classes = [str(c) for c in pipeline.classes_]
    log.info("hotline classifier trained on %d texts (%d corrections) in %.1f s, temperature %.2f", len(texts),
             n_corrections, seconds, temperature)
    return Model(pipeline, classes, fingerprint_of(corrections), time.time(), len(texts), n_corrections,
                 temperature=temperature, meta={"train_seconds": round(seconds, 2)})


def save(model: Model, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename), so another process never loads half a file."""
    path = path or model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".classifier-", suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(model, tmp, compress=3)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


class _Holder:
    """The model of this process; re-reads the file when its mtime changes (checked at most once a second)."""

    def __init__(self) -> None:
        self.model: Model | None = None
        self.path: Path | None = None
        self.mtime = 0.0
        self.checked_at = 0.0
        self.lock = threading.Lock()

    def get(self) -> Model:
        model = self.model
        now = time.monotonic()
        path = model_path()
        if model is not None and now - self.checked_at < 1.0 and path == self.path:
            return model
        with self.lock:
            if path != self.path:  # the data directory changed (tests): start over
                self.model, self.path, self.mtime = None, path, 0.0
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                mtime = None
            if mtime is None:
                if self.model is None:
                    self.model = _load_or_train()
                    self.mtime = model_path().stat().st_mtime if model_path().exists() else 0.0
            elif self.model is None or mtime != self.mtime:
                loaded = _read(path)
                if loaded is not None:
                    self.model, self.mtime = loaded, mtime
                elif self.model is None:
                    self.model = _load_or_train()
            self.checked_at = now
            return self.model

    def set(self, model: Model, mtime: float) -> None:
        with self.lock:
            self.model, self.mtime, self.checked_at = model, mtime, time.monotonic()
            self.path = model_path()

    def forget(self) -> None:
        with self.lock:
            self.model, self.path, self.mtime, self.checked_at = None, None, 0.0, 0.0


_holder = _Holder()


def _read(path: Path) -> Model | None:
    try:
        model = joblib.load(path)
    except Exception:  # a file from another scikit-learn version, or damaged: retrain rather than fail a call
        log.warning("hotline classifier at %s is unreadable; retraining", path, exc_info=True)
        return None
    if getattr(model, "version", None) != MODEL_VERSION:
        return None
    return model


def _load_or_train() -> Model:
    from cityops.hotline.selectors import correction_pairs

    model = train(correction_pairs())
    try:
        save(model)
    except OSError:  # read-only data dir: serve from memory
        log.warning("cannot write %s; the hotline classifier lives in memory only", model_path(), exc_info=True)
    return model


def get_model() -> Model:
    return _holder.get()


def retrain(*, force: bool = False) -> tuple[Model, bool]:
    """Train from the corpus and every correction; skip when nothing changed since the saved model.
    Returns the model in use and whether it was retrained."""
    from cityops.hotline.selectors import correction_pairs

    pairs = correction_pairs()
    current = _read(model_path()) if model_path().exists() else None
    if not force and current is not None and current.fingerprint == fingerprint_of(pairs):
        return current, False
    model = train(pairs)
    path = save(model)
    _holder.set(model, path.stat().st_mtime)
    return model, True


def forget() -> None:
    """Drop this process's model (tests)."""
    _holder.forget()
