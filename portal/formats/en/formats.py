"""One way to write a time, in the pages and the admin alike, with its time zone.

Django's ``en`` formats are replaced (``FORMAT_MODULE_PATH``): every aware datetime is shown in
the user's zone (``accounts.middleware.TimeZoneMiddleware``) as ``2026-11-30 20:18:05 UTC +0000``:
the zone's abbreviation and its offset, since abbreviations alone are ambiguous ("CST" is China's
and Central America's).
"""

DATETIME_FORMAT = "Y-m-d H:i:s T O"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T O"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
