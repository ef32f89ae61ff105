from django.core.management.base import BaseCommand

from privacy.retention.purge import purge


class Command(BaseCommand):
    help = "Apply the retention rules (--dry-run: only count). Each run is recorded; values are never printed."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, dry_run, batch_size, **options):
        run = purge(dry_run=dry_run, batch_size=batch_size)
        if run.status == "skipped":
            self.stdout.write("Another purge is running; nothing done.")
            return
        verb = "would" if dry_run else "did"
        for key, result in sorted(run.counts.items()):
            postponed = ", ".join(f"{n} postponed ({reason})" for reason, n in result.get("postponed", {}).items())
            warn = f", {result['warn']} warned" if result.get("warn") else ""
            self.stdout.write(f"{key:32s} {verb} {result['action']:9s} {result['count']:8d}{warn}"
                              f"{'; ' + postponed if postponed else ''}")
        self.stdout.write(f"{'dry run' if dry_run else 'run'} {run.status} in {run.seconds:.2f}s"
                          + (f"; errors: {'; '.join(run.errors)}" if run.errors else ""))
