"""The `[channels.zalo]` table of a tenant's settings."""

from __future__ import annotations

import msgspec

from motcua.notices.channel import Secret


class ZaloSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    app_id: str
    oa_id: str
    app_secret: Secret  # signs token refreshes
    oa_secret_key: Secret  # signs the webhooks Zalo posts to us
    access_token: Secret  # the first tokens; refreshed ones live in the tenant's token store
    refresh_token: Secret
    api_base: str = "https://openapi.zalo.me"
    zns_api_base: str = "https://business.openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    zns_templates: dict[str, str] = msgspec.field(default_factory=dict)  # notice kind → id
