from django.core.management.base import BaseCommand, CommandError

from privacy.keys.sweep import values_reseal
from privacy.protection.keystore import KeyStoreUnavailable


class Command(BaseCommand):
    help = ("Once after upgrading (and after a model joins PERSON_KEY_MODELS): move values still under the "
            "shop-wide key of the models sealed per person, and sign-in email addresses (sealed by shop migration "
            "0010 and privacy migration 0022 under the shop-wide key), under their person's key, so erasure reaches them "
            "in backups taken from then on. The daily key sweep does the same; this runs it now. Batched; "
            "safe to run twice or to resume after a crash.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        try:
            changed = values_reseal(batch_size=options["batch_size"]).resealed
        except KeyStoreUnavailable:
            raise CommandError("The key store is out of reach: the batch in progress was left as it was. "
                               "Run this again once it is back; it carries on where it stopped.") from None
        for label, count in sorted(changed.items()):
            self.stdout.write(f"{label}: {count} rows moved under their person's key")
        self.stdout.write("done" if changed else "nothing left under the shop-wide key to move")
