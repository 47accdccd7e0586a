"""Local-practice numbers of RULES.md §1, each overridable in settings (CITYOPS_CASE_<NAME>)."""

from django.conf import settings

DEFAULTS = {
    "REGISTER_WH": 0.5,  # registration (立案) limit
    "CHECK_WH": 1.0,  # field check of a report (核实)
    "DISPATCH_WH": 0.5,  # dispatch (派遣)
    "ACCEPT_WH": 1.0,  # acceptance (签收)
    "URGENT_HANDLE_WH": 2.0,  # handling limit of an urgent case
    "VERIFY_WH": 1.0,  # on-site verification (核查)
    "CLOSE_WH": 1.0,  # closing (结案) by the shift lead
    "FOLLOW_UP_WD": 2.0,  # follow-up (回访) within 2 working days of closing
    "APPROVAL_WH": 1.0,  # dispatcher / shift lead answering a request (void, return, extension, suspension)
    "RETURN_LIMIT": 1,  # returns (退回) per case
    "EXTENSION_LIMIT": 1,  # extensions (延期) per case
    "HOTLINE_CONSULTATION_WD": 3.0,
    "HOTLINE_COMPLAINT_WD": 15.0,
    "HOTLINE_RETURN_WD": 2.0,  # a hotline work order may be returned (回退) within 2 working days of dispatch
    "DUPLICATE_RADIUS_M": 100.0,
    "DUPLICATE_WINDOW_H": 72.0,
    "MAX_PHOTOS": 9,
    "SUPERVISION_MAX_RESPONSE_WH": 120.0,  # the longest response deadline of a supervision order (督办单): 15 working days
}


def get(name: str):
    return getattr(settings, f"CITYOPS_CASE_{name}", DEFAULTS[name])
