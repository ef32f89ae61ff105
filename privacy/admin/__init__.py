"""The privacy admin, one module per capability."""
from privacy.admin import site  # noqa: F401  (registers the ModelAdmins)
