import json

from django.core.management.base import BaseCommand

from privacy.processors.inventory import inventory, inventory_markdown


class Command(BaseCommand):
    help = "Print the record of processing generated from the personal-data registry."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["markdown", "json"], default="markdown")

    def handle(self, *args, format, **options):
        if format == "json":
            self.stdout.write(json.dumps(inventory(), indent=2))
        else:
            self.stdout.write(inventory_markdown())
