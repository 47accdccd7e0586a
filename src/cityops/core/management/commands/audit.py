from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from cityops.core.audit import audit_run
from cityops.core.checkpoint import CheckpointError, checkpoint_write


class Command(BaseCommand):
    help = ("核验时间线 / the timeline's audit: `cityops audit verify` (hash chains, objects against their chains, "
            "chains against the keyed checkpoints), `cityops audit checkpoint` (sign the heads now)")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="sub", required=True)
        verify = sub.add_parser("verify", help="report every edited, deleted, rewound or rewritten chain; exit 1 if any")
        verify.add_argument("--subject-type", default=None, help="only this subject type, e.g. cases.case")
        checkpoints = verify.add_mutually_exclusive_group()
        checkpoints.add_argument("--checkpoints", type=Path, default=None,
                                 help="hold the chains to this copy of the checkpoint file (e.g. the one shipped off-host)")
        checkpoints.add_argument("--no-checkpoints", action="store_true", help="do not read any checkpoint file")
        checkpoint = sub.add_parser("checkpoint", help="sign the heads changed since the last checkpoint and append them")
        checkpoint.add_argument("--full", action="store_true", help="sign every head, not only the changed ones")

    def handle(self, *args, **options):
        try:
            if options["sub"] == "checkpoint":
                self._checkpoint(full=options["full"])
            else:
                self._verify(options)
        except (ImproperlyConfigured, CheckpointError) as exc:
            raise CommandError(str(exc)) from exc

    def _checkpoint(self, *, full: bool) -> None:
        written = checkpoint_write(full=full)
        if written is None:
            self.stdout.write("无需检查点（未变化或已关闭） / nothing to sign (no change, or checkpoints are off)")
        else:
            self.stdout.write(f"检查点已写入 / checkpoint written: {written.heads} head(s) in {written.lines} line(s), "
                              f"entries {written.after + 1}..{written.upto}{' (full)' if written.full else ''}")

    def _verify(self, options) -> None:
        checkpoints = False if options["no_checkpoints"] else (options["checkpoints"] or True)
        if isinstance(checkpoints, Path) and not checkpoints.exists():
            raise CommandError(f"检查点文件不存在 / no such checkpoint file: {checkpoints}")
        report = audit_run(subject_type=options["subject_type"], checkpoints=checkpoints)
        for problem in report.problems:
            self.stderr.write(str(problem))
        if report.signed is None:
            signed = "未对照检查点 / no keyed checkpoint checked"
        else:
            signed = (f"对照检查点 / held to {len(report.signed.heads)} signed head(s) in {report.signed.lines} "
                      f"checkpoint line(s) of {report.signed.path}, the last at {report.signed.last_at or '—'}")
        if report.problems:
            raise CommandError(
                f"时间线被篡改：{len(report.problems)} 处问题（共核验 {report.checked} 条） / "
                f"timeline tampered: {len(report.problems)} problem(s) in {report.checked} entries; {signed}"
            )
        self.stdout.write(
            f"时间线完好：已核验 {report.checked} 条、{report.objects} 个流程对象 / timeline intact: "
            f"{report.checked} entries and {report.objects} workflow objects verified; {signed}"
        )
