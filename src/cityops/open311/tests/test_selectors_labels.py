"""Open311's extended state label speaks the language of the answer, as the case pages do."""

from django.utils import translation

from cityops.open311.selectors import RequestSerializer


def test_state_label_is_translated():
    with translation.override("en"):
        assert RequestSerializer().label("reported") == "To register"
        assert RequestSerializer().label("no_such_state") == "no_such_state"
    with translation.override("zh-hans"):
        assert RequestSerializer().label("reported") == "待立案"
