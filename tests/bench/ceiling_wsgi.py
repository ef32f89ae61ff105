"""WSGI entry point for the benchmark's ceiling: the project's application (same settings,
same middleware stack) with tests/bench/bench_urls.py as its URLconf, which adds
/__bench_ceiling__, a view answering a plain HttpResponse. The app's URLs are not touched.

    SHOP_BENCH_CEILING=1 gunicorn tests.bench.ceiling_wsgi -w 2 -b 127.0.0.1:PORT
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # noqa: E402

if os.environ.get("SHOP_BENCH_CEILING") == "1":
    settings.ROOT_URLCONF = "tests.bench.bench_urls"

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
