from django.core.management.base import BaseCommand

from privacy.protection.sealing import seal_existing


class Command(BaseCommand):
    help = ("Once after upgrading (and after a model joins PERSON_KEY_MODELS): move values still under the "
            "shop-wide key of the models sealed per person under their person's key, so erasure reaches them "
            "in backups taken from then on. Batched; safe to run twice or to resume after a crash.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, **options):
        changed = seal_existing(batch_size=options["batch_size"])
        for label, count in sorted(changed.items()):
            self.stdout.write(f"{label}: {count} rows moved under their person's key")
        self.stdout.write("done" if changed else "nothing left under the shop-wide key to move")
