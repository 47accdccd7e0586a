from django.core.management.base import BaseCommand, CommandError

from cityops.core.timeline import audit_verify


class Command(BaseCommand):
    help = "核验时间线哈希链 / verify the hash chains of the timeline: `cityops audit verify`"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        verify = sub.add_parser("verify", help="report every edited or deleted timeline entry")
        verify.add_argument("--subject-type", default=None, help="only this subject type, e.g. cases.case")

    def handle(self, *args, **options):
        checked, problems = audit_verify(subject_type=options["subject_type"])
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(
                f"时间线被篡改：{len(problems)} 处问题（共核验 {checked} 条） / "
                f"timeline tampered: {len(problems)} problem(s) in {checked} entries"
            )
        self.stdout.write(f"时间线完好：已核验 {checked} 条 / timeline intact: {checked} entries verified")
