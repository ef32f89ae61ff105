from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy.keys.rotation import count_under_old_keys, rotate


class Command(BaseCommand):
    help = ("Re-encrypt every encrypted field under CRYPTOGRAPHY_KEY. Set the new key as CRYPTOGRAPHY_KEY and the "
            "previous one(s) in CRYPTOGRAPHY_OLD_KEYS, run this (resumable), then drop the old keys.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--verify", action="store_true", help="only count values still under an old key")

    def handle(self, *args, batch_size, verify, **options):
        if not verify:
            if not settings.CRYPTOGRAPHY_OLD_KEYS:
                self.stdout.write("No CRYPTOGRAPHY_OLD_KEYS set: re-encrypting under the current key anyway.")
            for report in rotate(batch_size=batch_size):
                self.stdout.write(f"{report.model_label}: {report.rows} rows re-encrypted")
        stale = count_under_old_keys()
        for label, count in stale.items():
            self.stdout.write(f"{label}: {count} rows still under an old key")
        if verify and any(stale.values()):
            raise CommandError("Some values are still encrypted under an old key.")
