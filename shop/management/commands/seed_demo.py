from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shop.demo import load_catalogue
from shop.models import User

DEMO_STAFF_EMAIL = "staff@example.com"
DEMO_STAFF_PASSWORD = "shop-staff-demo-2026"  # stated in the README, for local use only


class Command(BaseCommand):
    help = "Load a demo catalogue (generated images, no downloads) and a local staff account. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=240)
        parser.add_argument("--categories", type=int, default=12)
        parser.add_argument("--no-images", action="store_true")
        parser.add_argument("--no-staff", action="store_true")

    def handle(self, *args, products, categories, no_images, no_staff, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for local use; it refuses to run in production.")
        count = load_catalogue(products=products, categories=categories, images=not no_images)
        self.stdout.write(f"Demo catalogue: {count} products created" if count else "Demo catalogue already loaded.")
        if not no_staff:
            staff = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
            if staff is None:
                staff = User.objects.create_superuser(DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
                self.stdout.write(f"Staff account: {DEMO_STAFF_EMAIL} (password in the README, local use only).")
            # Verified and primary, as if its confirmation link had been followed: the first sign-in goes
            # straight on (no confirmation email to a made-up address) to the two-factor set-up.
            EmailAddress.objects.update_or_create(user=staff, email=DEMO_STAFF_EMAIL,
                                                  defaults={"verified": True, "primary": True})
