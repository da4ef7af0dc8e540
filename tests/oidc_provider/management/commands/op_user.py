"""Create or update a user of the test provider: password, e-mail, groups, active or not."""

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--groups", default="", help="comma-separated; empty: none")
        parser.add_argument("--inactive", action="store_true")

    def handle(self, *args, username, password, email, groups, inactive, **options):
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.email = email or f"{username}@example.test"
        user.is_active = not inactive
        user.save()
        names = [name for name in groups.split(",") if name]
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])
