from django.apps import AppConfig


class PeeringsConfig(AppConfig):
    name = "peerings"
    verbose_name = "VPC peerings"
