"""``runserver`` with Nagle off, so the portal's calls to the embedded simulator don't stall."""

from django.contrib.staticfiles.management.commands.runserver import Command as StaticfilesRunserver

from portal.devserver import NoDelayWSGIServerBase


class Command(StaticfilesRunserver):
    server_cls = NoDelayWSGIServerBase
