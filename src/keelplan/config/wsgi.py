"""The WSGI entry point that gunicorn and the development server load."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keelplan.config.settings")
application = get_wsgi_application()
