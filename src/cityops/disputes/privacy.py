"""The personal data of dispute parties (issue 14; DESIGN.md "Roles and scope": masked wherever not needed).

- A person's 居民身份证号 is checked with python-stdnum `cn.ric` (GB 11643 check digit, birth date, region), an
  organisation's 统一社会信用代码 with `cn.uscc` (GB 32100); a wrong number is refused with a coded error.
- The ID number and the phone are stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256). The key is the setting
  `CITYOPS_FIELD_KEY`, else derived from SECRET_KEY with HKDF (docs/deployment.md).
- A keyed HMAC of the ID number (`id_hash`) finds the same person again without decrypting anything.
- Pages and the API show the masked forms only (420102********1234, 138****5678); the number is decrypted in one
  place, `party_id_number(party, user)`, for staff who need it (the agreement PDF), after checking they may.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from cityops.core import roles
from cityops.core.errors import Forbidden, InvalidInput
from cityops.core.workflow import actor_roles
from cityops.disputes import workflow as dwf

# Who reads a party's full ID number: the staff of the dispute's centre and its mediator (the agreement names the
# parties by their numbers), and the administrator.
ID_READERS = frozenset({dwf.CENTRE_STAFF, dwf.ASSIGNED_MEDIATOR, roles.ADMIN})


@lru_cache(maxsize=4)
def _keys(field_key: str, secret_key: str) -> tuple[bytes, bytes]:
    """(Fernet key, HMAC key). With CITYOPS_FIELD_KEY: that key encrypts and an HKDF of it keys the hash; without:
    both are derived from SECRET_KEY with HKDF (distinct `info`, so neither key gives the other away)."""

    def derive(material: bytes, info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"cityops.disputes", info=info).derive(material)

    if field_key:
        try:
            Fernet(field_key.encode())
        except (ValueError, TypeError) as exc:
            raise ValueError("CITYOPS_FIELD_KEY must be a Fernet key (urlsafe base64 of 32 bytes)") from exc
        return field_key.encode(), derive(field_key.encode(), b"party-id-hash")
    material = secret_key.encode()
    return base64.urlsafe_b64encode(derive(material, b"party-field-encryption")), derive(material, b"party-id-hash")


def _fernet() -> Fernet:
    return Fernet(_keys(settings.CITYOPS_FIELD_KEY, settings.SECRET_KEY)[0])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""  # encrypted under another key: unreadable, never a crash


def id_hash(number: str) -> str:
    """The keyed hash that finds the same person again (HMAC-SHA256 of the normalised number)."""
    key = _keys(settings.CITYOPS_FIELD_KEY, settings.SECRET_KEY)[1]
    return hmac.new(key, number.upper().encode(), hashlib.sha256).hexdigest()


# --- checks -----------------------------------------------------------------------------------------------------
def clean_id_number(value: str) -> str:
    """A 居民身份证号 in its compact form (18 characters, X upper case), or a coded refusal."""
    value = (value or "").strip()
    if "\x00" in value or len(value) > 40:
        raise InvalidInput("身份证号码格式不正确", "The ID card number is malformed", code="invalid_id_number")
    try:
        return ric.validate(value)
    except ValidationError:
        raise InvalidInput(f"身份证号码无效（校验位、出生日期或地区码不符）：{mask_id(value)}",
                           f"The ID card number is not valid (check digit, birth date or region): {mask_id(value)}",
                           code="invalid_id_number") from None


def clean_uscc(value: str) -> str:
    value = (value or "").strip()
    if "\x00" in value or len(value) > 40:
        raise InvalidInput("统一社会信用代码格式不正确", "The unified social credit code is malformed", code="invalid_uscc")
    try:
        return uscc.validate(value)
    except ValidationError:
        raise InvalidInput(f"统一社会信用代码无效（校验码不符）：{value[:18]}",
                           f"The unified social credit code is not valid (check character): {value[:18]}",
                           code="invalid_uscc") from None


def clean_phone(value: str) -> str:
    raw = (value or "").strip()
    phone = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if raw and (not 5 <= len(phone) <= 20 or len(raw) > 30):
        raise InvalidInput("联系电话格式不正确", "The phone number is not valid", code="invalid_phone")
    return phone


# --- masks ------------------------------------------------------------------------------------------------------
def mask_id(number: str) -> str:
    """420102********1234: the region code and the last four, the birth date hidden."""
    number = (number or "").strip()
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****5678."""
    if not phone:
        return ""
    if len(phone) >= 7:
        return phone[:3] + "****" + phone[-4:]
    return "*" * len(phone)


def protect_party(party, *, id_number: str = "", phone: str = "") -> None:
    """Fill a Party's stored forms from the clear values (not saved here)."""
    party.id_encrypted = encrypt(id_number)
    party.id_hash = id_hash(id_number) if id_number else ""
    party.id_masked = mask_id(id_number)
    party.phone_encrypted = encrypt(phone)
    party.phone_masked = mask_phone(phone)


# --- reading in full, for those who need it -----------------------------------------------------------------
def may_read_id(party, user) -> bool:
    return bool(user is not None and user.is_authenticated and actor_roles(user, party.dispute) & ID_READERS)


def party_id_number(party, user) -> str:
    """The party's full ID number (an organisation's USCC, which is public) for `user` — the centre's staff, the
    assigned mediator or an administrator; anyone else is refused (403, `id_not_allowed`)."""
    if party.kind == "organisation":
        return party.uscc
    if not may_read_id(party, user):
        raise Forbidden("您无权查看当事人的完整证件号码", "You may not see the party's full ID number",
                        code="id_not_allowed")
    return decrypt(party.id_encrypted)


def party_phone(party, user) -> str:
    """The party's full phone, for the same readers (the mediator calls the parties)."""
    if not may_read_id(party, user):
        raise Forbidden("您无权查看当事人的完整联系电话", "You may not see the party's full phone number",
                        code="id_not_allowed")
    return decrypt(party.phone_encrypted)


def parties_by_person(number: str, queryset=None):
    """The parties with this ID number, through its keyed hash (the same person in other disputes)."""
    from cityops.disputes.models import Party

    qs = queryset if queryset is not None else Party.objects.all()
    return qs.filter(id_hash=id_hash(clean_id_number(number)))
