from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class VpcSimConfig(AppConfig):
    name = "vpcsim"
    verbose_name = "VPC API simulator"

    def ready(self) -> None:
        # A bad fault spec or replay mode stops the process at start, naming the setting.
        from vpcsim.faults import FaultSpecError, parse_spec

        try:
            parse_spec(getattr(settings, "VPCSIM_FAULTS", "") or "")
        except FaultSpecError as exc:
            raise ImproperlyConfigured(f"VPCSIM_FAULTS: {exc}") from None
        mode = getattr(settings, "VPCSIM_REPLAY_CHECK", "off")
        if mode not in {"writes", "all", "off"}:
            raise ImproperlyConfigured(f"VPCSIM_REPLAY_CHECK must be off, writes or all, not {mode!r}")
