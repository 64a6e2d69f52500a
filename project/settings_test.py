"""Settings for the test suite: production settings with a throwaway key and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from project.settings import *  # noqa: F403
from project.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The test client and the browser tests talk plain HTTP to a local server.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# Login rate limiting needs a request; tests that check it turn it on (tests/test_security.py).
AXES_ENABLED = False

# Jobs run at once, inside the request or call that starts them (no worker in the tests).
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# Job files (uploads, finished exports) go to a throwaway folder.
_JOB_FILES = __import__("tempfile").mkdtemp(prefix="claimdesk-test-jobs-")
STORAGES = {
    **STORAGES,
    "jobs": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": _JOB_FILES},
    },
}
