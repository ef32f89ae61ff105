from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from privacy.audit import log as audit
from privacy.management.commands._lookup import person_for_email
from privacy.models import AccessLogEntry
from privacy.rights.export import export_archive, export_document


class Command(BaseCommand):
    help = "Export everything the shop holds about a person (account or guest email) as a ZIP (staff use)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--output", required=True, help="Path of the ZIP to write (keep it private).")

    def handle(self, *args, email, output, **options):
        user, email = person_for_email(email)
        doc = export_document(user=user, email="" if user else email)
        count = sum(len(m["records"]) for m in doc["models"].values())
        if count == 0:
            raise CommandError("Nothing is held for that email.")
        path = Path(output)
        path.write_bytes(export_archive(doc))
        path.chmod(0o600)
        audit.audit_log(actor=None, action=AccessLogEntry.Action.EXPORT, model_label="person",
                        object_ids=[user.pk if user else "guest"], subject_user_ids=[getattr(user, "pk", None)],
                        reason="privacy_export command")
        self.stdout.write(f"Wrote {count} records to {path} (mode 0600).")
