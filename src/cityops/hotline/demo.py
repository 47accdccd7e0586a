"""Demo data of the hotline app: a trained classifier (called by `cityops load_demo`)."""


def load_demo() -> str:
    from cityops.hotline.classifier import retrain

    model, retrained = retrain()
    return f"classifier {'trained' if retrained else 'up to date'} ({model.samples} texts, {model.corrections} corrections)"
