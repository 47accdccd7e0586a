"""How strong SECRET_KEY must be in production (issue 10 §6: 50 × "a" used to pass).

Imported by settings.py, so it imports nothing that needs settings. The length, distinct-character and
insecure-prefix rules are Django's own (`check --deploy`, security.W009), read from Django so both agree; on top
of them a key must not be one short piece repeated, and its characters must carry at least 3 bits each by a
Shannon estimate — a 50-character random hex key measures ≥ 3.2 (worst of 100,000 draws), `token_urlsafe`
and Django's `get_random_secret_key` ≥ 4.3, while "abcde" × 10 measures 2.3. An estimate cannot tell a
random key from a guessable sentence: generate the key, never type it.
"""

import math
from collections import Counter

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)

MIN_BITS_PER_CHARACTER = 3.0
HOW_TO_GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'"


def bits_per_character(key: str) -> float:
    """Shannon entropy of the key's character distribution, in bits per character."""
    n = len(key)
    return -sum(c / n * math.log2(c / n) for c in Counter(key).values()) if n else 0.0


def _repeats_a_shorter_piece(key: str) -> bool:
    # "abcdefghij" × 5: the key equals itself shifted by some period no longer than half its length.
    return any(key[p:] == key[:-p] for p in range(1, len(key) // 2 + 1))


def secret_key_weakness(key: str, *, development_key: str = "") -> tuple[str, str] | None:
    """Why production refuses this key, as (zh, en), or None when it is strong enough. Never echoes the key."""
    if not key or key == development_key:
        return "未设置 SECRET_KEY（或用的是开发密钥）", "SECRET_KEY is not set (or is the development key)"
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return (f"SECRET_KEY 以 {SECRET_KEY_INSECURE_PREFIX!r} 开头，是 Django 生成的开发密钥",
                f"SECRET_KEY starts with {SECRET_KEY_INSECURE_PREFIX!r}: a Django development key")
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return (f"SECRET_KEY 至少需要 {SECRET_KEY_MIN_LENGTH} 个字符（现为 {len(key)} 个）",
                f"SECRET_KEY needs at least {SECRET_KEY_MIN_LENGTH} characters (it has {len(key)})")
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (f"SECRET_KEY 至少需要 {SECRET_KEY_MIN_UNIQUE_CHARACTERS} 个不同的字符",
                f"SECRET_KEY needs at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters")
    if _repeats_a_shorter_piece(key):
        return "SECRET_KEY 是一段较短内容的重复", "SECRET_KEY is a shorter piece repeated"
    bits = bits_per_character(key)
    if bits < MIN_BITS_PER_CHARACTER:
        return (f"SECRET_KEY 的随机性太低（每字符约 {bits:.1f} 位，至少需要 {MIN_BITS_PER_CHARACTER:.0f} 位）",
                f"SECRET_KEY has too little entropy (about {bits:.1f} bits per character; "
                f"at least {MIN_BITS_PER_CHARACTER:.0f} needed)")
    return None
