"""The API's JSON parser: DRF's, refusing bodies nested deeper than `API_JSON_MAX_DEPTH` before they are
parsed. Python's json module recurses once per level, so about a thousand nested brackets (2 KB) raise
RecursionError deep inside it; the scan below counts the depth in one flat pass instead."""

import io
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

# A JSON string, escapes included: brackets inside it are text, not structure.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether `text` opens more than `limit` arrays or objects inside one another (outside strings). Text
    that is not JSON is measured as well as it can be: the parser refuses it afterwards anyway."""
    if text.count("[") + text.count("{") <= limit:  # most bodies: no scan at all
        return False
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.API_JSON_MAX_DEPTH
        if json_depth_exceeds(raw.decode(encoding, errors="replace"), limit):
            message = _("The JSON body is nested more than %(limit)d levels deep.") % {"limit": limit}
            raise exceptions.ValidationError({"non_field_errors": [message]})
        return super().parse(io.BytesIO(raw), media_type, parser_context)
