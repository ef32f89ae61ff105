import csv

from django.core.management.base import BaseCommand, CommandError

from orders.carrier import TrackingUpdate, tracking_apply


class Command(BaseCommand):
    help = "Apply a carrier's tracking file (CSV: reference,carrier,tracking_number,event with event shipped|delivered)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        try:
            with open(path, newline="") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        counts: dict[str, int] = {}
        for row in rows:
            if row.get("event") not in ("shipped", "delivered"):
                counts["bad row"] = counts.get("bad row", 0) + 1
                continue
            outcome = tracking_apply(TrackingUpdate(row.get("reference", ""), row.get("carrier", ""),
                                                    row.get("tracking_number", ""), row["event"]))
            counts[outcome] = counts.get(outcome, 0) + 1
        for outcome, n in sorted(counts.items()):
            self.stdout.write(f"{outcome}: {n}")
