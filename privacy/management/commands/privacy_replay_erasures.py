from django.core.management.base import BaseCommand

from privacy.keys.replay import replay_erasures


class Command(BaseCommand):
    help = ("After restoring a backup of the shop's database: apply every erasure recorded in the key store "
            "(tombstones) again, so the restored copy holds nothing of the people erased since. Safe to run twice.")

    def handle(self, *args, **options):
        report = replay_erasures()
        self.stdout.write(f"{report.tombstones} tombstones applied; {report.accounts} accounts erased again")
        for label, count in sorted(report.rows.items()):
            self.stdout.write(f"{label}: {count} rows")
