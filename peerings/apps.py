from django.apps import AppConfig


class PeeringsConfig(AppConfig):
    name = "peerings"
    verbose_name = "VPC peerings"

    def ready(self) -> None:
        from peerings import receivers

        receivers.connect()
