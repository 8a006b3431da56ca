"""Start the test identity provider: ``python -m tests.idp.serve CLIENT_ID CLIENT_SECRET REDIRECT_URI``.

Migrates its database, creates a user for every entry of the claims file (password
``idp-password``) and the portal's application, then serves on a free port of 127.0.0.1 and
prints that port on the first line of its output."""

import json
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

PASSWORD = "idp-password"  # noqa: S105 - test accounts only


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.idp.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    client_id, client_secret, redirect_uri = sys.argv[1:4]
    call_command("migrate", verbosity=0, interactive=False)
    with open(settings.IDP_CLAIMS_FILE, encoding="utf-8") as fh:
        for username in json.load(fh):
            User.objects.create_user(username=username, password=PASSWORD)
    Application.objects.create(
        name="SmartCare",
        client_id=client_id,
        client_secret=client_secret,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        algorithm=Application.RS256_ALGORITHM,
    )
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=ThreadingServer, handler_class=QuietHandler
    )
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
