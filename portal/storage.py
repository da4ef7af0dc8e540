"""Static-file storage for the tests: WhiteNoise's, without requiring collectstatic."""

from whitenoise.storage import CompressedManifestStaticFilesStorage

__all__ = ["LenientManifestStaticFilesStorage"]


class LenientManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """A file that was not collected (no manifest entry, not in STATIC_ROOT) keeps its unhashed name.

    WhiteNoise (``WHITENOISE_USE_FINDERS``) then serves it from the app's static folder.
    """

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name
