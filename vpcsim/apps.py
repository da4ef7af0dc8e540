from django.apps import AppConfig


class VpcSimConfig(AppConfig):
    name = "vpcsim"
    verbose_name = "VPC API simulator"
