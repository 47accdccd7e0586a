"""Periodic retraining of the hotline classifier from operators' corrections (`cityops worker` schedules it:
PERIODIC below, gathered by core.tasks.periodic_tasks())."""

from django_tasks import task


@task()
def retrain_task() -> dict:
    """Retrain when corrections changed since the saved model (a no-op otherwise, so any interval is safe)."""
    from cityops.hotline.classifier import retrain

    model, retrained = retrain()
    return {"retrained": retrained, "samples": model.samples, "corrections": model.corrections}


PERIODIC = {"hotline_retrain": (retrain_task, "CITYOPS_HOTLINE_RETRAIN_INTERVAL")}
