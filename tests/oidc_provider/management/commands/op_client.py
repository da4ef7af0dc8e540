"""Register (or update) a confidential client of the test provider."""

from django.core.management.base import BaseCommand
from oauth2_provider.models import Application


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("client_id")
        parser.add_argument("--secret", required=True)
        parser.add_argument("--redirect-uri", action="append", required=True)
        parser.add_argument("--post-logout-uri", action="append", default=[])

    def handle(self, *args, client_id, secret, redirect_uri, post_logout_uri, **options):
        Application.objects.filter(client_id=client_id).delete()
        Application.objects.create(
            name=client_id,
            client_id=client_id,
            client_secret=secret,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(redirect_uri),
            post_logout_redirect_uris=" ".join(post_logout_uri),
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,
        )
