"""Operators' corrections retrain the classifier: a corrected phrasing gets the chosen category."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from cityops.hotline import classifier
from cityops.hotline.models import HotlineCall

# An ambiguous call: the corpus says 物业 or 路灯; the operator says it belongs to the street lights.
TEXT = "小区门口那盏灯黑了一个礼拜，找了好几次都没人理"


@pytest.fixture
def own_data_dir(tmp_path):
    with override_settings(DATA_DIR=tmp_path):
        classifier.forget()
        yield tmp_path
    classifier.forget()


def test_a_correction_changes_the_prediction_for_that_phrasing(db, own_data_dir, operator):
    before, _ = classifier.retrain()
    first = before.top(TEXT, k=1)[0][0]
    chosen = "C0103" if first != "C0103" else "E0606"  # a category it would never pick by itself
    HotlineCall.objects.create(text=TEXT, suggested_category=first, chosen_category=chosen, corrected=True,
                               operator=operator)
    after, retrained = classifier.retrain()
    assert retrained
    assert after.corrections == 1
    assert after.top(TEXT, k=1)[0][0] == chosen
    assert classifier.get_model() is after  # this process serves the new model at once
    # A phrasing of another category keeps its answer.
    assert after.top("路口的红绿灯坏了，车子乱开", k=1)[0][0] == "C0201"


def test_retrain_is_a_no_op_when_nothing_changed(db, own_data_dir):
    classifier.retrain()
    _model, retrained = classifier.retrain()
    assert not retrained


def test_management_command_and_periodic_task(db, own_data_dir, capsys):
    call_command("dispatch", "retrain")
    assert (own_data_dir / "hotline" / "classifier.joblib").exists()
    from cityops.hotline.tasks import retrain_task

    result = retrain_task.call()
    assert result == {"retrained": False, "samples": result["samples"], "corrections": 0}
    call_command("dispatch", "evaluate")
    assert '"top1"' in capsys.readouterr().out


def test_model_file_is_shared_between_processes(db, own_data_dir):
    """Another process's retrain replaces the file; this process picks it up on its next check."""
    model, _ = classifier.retrain()
    classifier.forget()
    loaded = classifier.get_model()
    assert loaded.fingerprint == model.fingerprint
