"""`cityops dispatch retrain|evaluate|suggest`: the hotline classifier from the command line."""

import json

from django.core.management.base import BaseCommand, CommandError

from cityops.core.progress import item_logs, progress


class Command(BaseCommand):
    help = "热线智能派单 / hotline dispatch: retrain the classifier, evaluate it on the held-out corpus, try a text"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        retrain = sub.add_parser("retrain", help="train from the shipped corpus and operators' corrections")
        retrain.add_argument("--force", action="store_true", help="retrain even when nothing changed")
        sub.add_parser("evaluate", help="top-1 / top-3 accuracy on the held-out split")
        suggest = sub.add_parser("suggest", help="suggestions for one text (and address)")
        suggest.add_argument("text")
        suggest.add_argument("--address", default="")

    def handle(self, *args, **opts):
        from cityops.hotline import classifier, evaluation, selectors

        action = opts["action"]
        item_logs(opts["verbosity"])
        if action == "retrain":
            with progress(self.stdout, "训练分类模型 / training the classifier"):
                model, retrained = classifier.retrain(force=opts["force"])
            what = "retrained" if retrained else "unchanged (use --force to retrain)"
            self.stdout.write(f"{what}: {model.samples} texts, {model.corrections} corrections, "
                              f"{model.meta.get('train_seconds', '?')} s → {classifier.model_path()}")
        elif action == "evaluate":
            with progress(self.stdout, "评估分类模型 / evaluating the classifier"):
                result = evaluation.held_out_accuracy(classifier.get_model())
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
        elif action == "suggest":
            try:
                answer = selectors.suggest(text=opts["text"], address=opts["address"])
            except Exception as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(json.dumps(answer, ensure_ascii=False, indent=2))
