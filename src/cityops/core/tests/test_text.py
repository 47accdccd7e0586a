"""core.text.clean_text: the one check of typed text that every app's services use (disputes intake and hooks,
campaigns and visits)."""

import pytest

from cityops.core.errors import InvalidInput
from cityops.core.text import clean_text


def test_a_text_is_trimmed_and_keeps_its_line_breaks_and_tabs():
    assert clean_text("  楼上漏水\n\t第二行 ", field="title", label="事由", max_length=20) == "楼上漏水\n\t第二行"
    assert clean_text(None, field="goal", label="目标", max_length=20, required=False) == ""


@pytest.mark.parametrize(("value", "code"), [
    ("漏水\x00", "invalid_text"),
    ("漏水\x07", "invalid_text"),  # a bell: no person types it
    ("\x1b[31m漏水", "invalid_text"),  # a terminal escape
    ("", "title_required"),
    ("   ", "title_required"),
    ("漏" * 21, "title_too_long"),
    (42, "invalid_title"),
])
def test_bad_text_is_refused_with_a_code_and_both_languages(value, code):
    with pytest.raises(InvalidInput) as refused:
        clean_text(value, field="title", label="事由", max_length=20)
    assert refused.value.code == code and refused.value.status == 400
    assert "事由" in refused.value.message and "title" in refused.value.message_en
