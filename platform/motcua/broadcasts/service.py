"""Topics, areas and subscriptions: the rules a citizen meets, whether they write
"đăng ký tin tức An Bình" in a chat, use the tracking page or an email's unsubscribe link.

Topics and areas are named by people: a typed name matches by its folded form (no case, no
diacritics) or by its slug, and an area also by its bare name ("An Bình" for "Xã An Bình").
"""

from __future__ import annotations

import hmac
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import msgspec
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.broadcasts.links import verified_subscription
from motcua.broadcasts.models import Area, Subscription, Topic
from motcua.catalog.folding import fold
from motcua.catalog.models import Agency
from motcua.db import current_tenant
from motcua.dossiers.applicants import check_email, normalise_phone
from motcua.dossiers.models import Dossier
from motcua.errors import Conflict, Invalid, NotFound
from motcua.notices.channel import Address

# Every province has these; it may add others and retire any.
DEFAULT_TOPICS: Final = (("tin-tuc", "Tin tức"), ("chinh-sach-moi", "Chính sách mới"))
AREA_LEVELS: Final = ("commune", "district")
# Words of an administrative unit's name, longest first: "thị xã" before "xã".
UNIT_WORDS: Final = ("thanh pho", "thi tran", "thi xa", "phuong", "huyen", "quan", "xa")
AGENCY_PREFIXES: Final = ("uy ban nhan dan ", "ubnd ")
NAME_LIMIT: Final = 100


class UnknownTopic(Invalid):
    """No topic of the province has that name; ``known`` lists the ones it has."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(
            f"Không có chủ đề '{name[:100]}'. Các chủ đề: {', '.join(known)}. (Unknown topic.)",
            field="topic",
            known=known,
        )


class UnknownArea(Invalid):
    """No area, or more than one, has that name; ``known`` lists the candidates."""

    def __init__(self, name: str, known: list[str], *, ambiguous: bool = False) -> None:
        what = "nhiều địa bàn" if ambiguous else "địa bàn"
        super().__init__(
            f"Không xác định được {what} '{name[:100]}'. (Unknown or ambiguous area.)",
            field="area",
            known=known,
        )


@dataclass(frozen=True)
class Subscribed:
    """What a citizen is subscribed to, in words a reply can use."""

    topic: str  # the topic's name
    topic_slug: str
    area: str | None  # the area's name; None: the whole province
    area_slug: str


def address_key(to: Address) -> str:
    """One citizen's one address: the chat id first, else the phone, else the email."""
    if to.zalo_user_id:
        return f"zalo:{to.zalo_user_id.strip()}"
    if to.phone:
        try:
            return f"phone:{normalise_phone(to.phone)}"
        except ValueError:
            raise Invalid(
                "Số điện thoại không hợp lệ. (The phone number is not valid.)", field="phone"
            ) from None
    if to.email:
        try:
            return f"email:{check_email(to.email).lower()}"
        except ValueError:
            raise Invalid(
                "Địa chỉ email không hợp lệ. (The email address is not valid.)", field="email"
            ) from None
    raise Invalid(
        "Cần mã Zalo, số điện thoại hoặc email để đăng ký nhận tin. "
        "(An address (Zalo id, phone or email) is needed to subscribe.)"
    )


def clean_name(name: str) -> str:
    """A name as typed, in NFC, on one line, without control characters."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return " ".join(text.split())


def slug_of(name: str) -> str:
    return fold(name).replace(" ", "-")[:64]


def bare_area_name(folded: str) -> str:
    """'xa an binh' → 'an binh': the name without its unit word."""
    for word in UNIT_WORDS:
        if folded.startswith(word + " "):
            return folded[len(word) + 1 :]
    return folded


def area_from_agency(name: str) -> str:
    """'Ủy ban nhân dân xã An Bình' → 'Xã An Bình'."""
    folded = fold(name)
    for prefix in AGENCY_PREFIXES:
        if folded.startswith(prefix):
            # Drop as many words of the original as the prefix has.
            name = " ".join(name.split()[len(prefix.split()) :])
            break
    return name[:1].upper() + name[1:]


class SubscriptionService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # Topics

    async def topics(self) -> list[Topic]:
        await self._seed_topics()
        rows = (await self.session.scalars(select(Topic).where(Topic.active))).all()
        defaults = [slug for slug, _ in DEFAULT_TOPICS]
        # The defaults first, in their order; then the province's own, oldest first.
        return sorted(
            rows,
            key=lambda t: (
                defaults.index(t.slug) if t.slug in defaults else len(defaults),
                t.created_at,
                t.slug,
            ),
        )

    async def topics_with_counts(self) -> list[tuple[Topic, int]]:
        """Each topic and how many addresses subscribe to it, anywhere."""
        topics = await self.topics()
        rows = await self.session.execute(
            select(
                Subscription.topic_slug, func.count(func.distinct(Subscription.address_key))
            ).group_by(Subscription.topic_slug)
        )
        counts = {slug: int(number) for slug, number in rows.all()}
        return [(t, counts.get(t.slug, 0)) for t in topics]

    async def add_topic(self, name: str) -> Topic:
        name = clean_name(name)
        if not fold(name) or len(name) > NAME_LIMIT:
            raise Invalid(
                f"A topic's name has 1 to {NAME_LIMIT} characters with a letter or digit.",
                field="name",
            )
        await self._seed_topics()
        slug = slug_of(name)
        row = await self.session.get(Topic, (current_tenant(self.session), slug))
        if row is not None and row.active:
            raise Conflict(f"The topic '{row.name}' exists already.")
        if row is None:
            row = Topic(slug=slug, name=name, name_folded=fold(name)[:100])
            self.session.add(row)
        row.name, row.active = name, True
        await self.session.flush()
        return row

    async def retire_topic(self, name_or_slug: str) -> None:
        """The topic is offered no more; its subscriptions go with it."""
        topic = await self.topic(name_or_slug)
        topic.active = False
        await self.session.execute(
            delete(Subscription).where(Subscription.topic_slug == topic.slug)
        )
        await self.session.flush()

    async def topic(self, name_or_slug: str) -> Topic:
        topics = await self.topics()
        wanted = fold(name_or_slug)
        for topic in topics:
            if name_or_slug.strip().lower() == topic.slug or wanted == topic.name_folded:
                return topic
        raise UnknownTopic(name_or_slug, [t.name for t in topics])

    async def _seed_topics(self) -> None:
        await self.session.execute(
            insert(Topic)
            .values(
                [
                    {
                        "tenant_id": current_tenant(self.session),
                        "slug": slug,
                        "name": name,
                        "name_folded": fold(name),
                    }
                    for slug, name in DEFAULT_TOPICS
                ]
            )
            .on_conflict_do_nothing()
        )

    # Areas

    async def areas(self) -> list[Area]:
        await self._sync_areas()
        return list(
            (
                await self.session.scalars(
                    select(Area).where(Area.active).order_by(Area.kind, Area.name_folded)
                )
            ).all()
        )

    async def add_area(self, name: str, kind: str) -> Area:
        name = clean_name(name)
        if kind not in AREA_LEVELS:
            raise Invalid(f"An area's kind is one of {', '.join(AREA_LEVELS)}.", field="kind")
        if not fold(name) or len(name) > 200:
            raise Invalid("An area's name has 1 to 200 characters.", field="name")
        await self._sync_areas()
        slug = slug_of(name)
        row = await self.session.get(Area, (current_tenant(self.session), slug))
        if row is not None and row.active:
            raise Conflict(f"The area '{row.name}' exists already.")
        if row is None:
            row = Area(slug=slug, agency_code=None)
            self.session.add(row)
        row.name, row.kind, row.active = name, kind, True
        row.name_folded = fold(name)[:200]
        row.short_folded = bare_area_name(row.name_folded)
        await self.session.flush()
        return row

    async def area(self, name_or_slug: str) -> Area:
        areas = await self.areas()
        typed = name_or_slug.strip().lower()
        wanted = fold(name_or_slug)
        exact = [a for a in areas if typed == a.slug or wanted == a.name_folded]
        if len(exact) == 1:
            return exact[0]
        bare = [a for a in areas if bare_area_name(wanted) == a.short_folded]
        if len(bare) == 1:
            return bare[0]
        if len(bare) > 1:  # "An Bình" the commune and the former district
            raise UnknownArea(name_or_slug, [a.name for a in bare], ambiguous=True)
        raise UnknownArea(name_or_slug, [a.name for a in areas])

    async def _sync_areas(self) -> None:
        """Communes and former districts of the catalogue become areas, once each."""
        known = set(
            (
                await self.session.scalars(
                    select(Area.agency_code).where(Area.agency_code.is_not(None))
                )
            ).all()
        )
        agencies = (
            await self.session.execute(
                select(Agency.code, Agency.name, Agency.level).where(
                    Agency.level.in_(AREA_LEVELS), Agency.active
                )
            )
        ).all()
        rows = []
        for code, agency_name, level in agencies:
            if code in known:
                continue
            name = area_from_agency(agency_name)[:200]
            folded = fold(name)[:200]
            rows.append(
                {
                    "tenant_id": current_tenant(self.session),
                    "slug": slug_of(name),
                    "name": name,
                    "kind": level,
                    "name_folded": folded,
                    "short_folded": bare_area_name(folded),
                    "agency_code": code,
                }
            )
        if rows:
            await self.session.execute(insert(Area).values(rows).on_conflict_do_nothing())

    # Subscriptions

    async def subscribe(
        self, to: Address, topic: str, area: str | None = None, *, source: str = "chat"
    ) -> Subscribed:
        """Idempotent: subscribing twice to the same topic and area is one subscription."""
        key = address_key(to)
        found = await self.topic(topic)
        place = await self.area(area) if area and area.strip() else None
        recipient = {k: v for k, v in msgspec.structs.asdict(to).items() if v}
        if "phone" in recipient:
            recipient["phone"] = normalise_phone(recipient["phone"])
        await self.session.execute(
            insert(Subscription)
            .values(
                tenant_id=current_tenant(self.session),
                address_key=key,
                recipient=recipient,
                topic_slug=found.slug,
                area_slug=place.slug if place else "",
                source=source,
            )
            .on_conflict_do_update(
                index_elements=["tenant_id", "address_key", "topic_slug", "area_slug"],
                set_={"recipient": recipient},
            )
        )
        return Subscribed(
            topic=found.name,
            topic_slug=found.slug,
            area=place.name if place else None,
            area_slug=place.slug if place else "",
        )

    async def unsubscribe(self, to: Address, topic: str | None = None) -> list[Subscribed]:
        """From one topic (in every area), or from everything; what was removed."""
        key = address_key(to)
        query = delete(Subscription).where(Subscription.address_key == key)
        if topic is not None and topic.strip():
            query = query.where(Subscription.topic_slug == (await self.topic(topic)).slug)
        removed = (
            await self.session.execute(
                query.returning(Subscription.topic_slug, Subscription.area_slug)
            )
        ).all()
        return await self._described([(t, a) for t, a in removed])

    async def unsubscribe_by_link(self, keys: Sequence[bytes], token: str) -> list[Subscribed]:
        """The email's one-click link: that address leaves that topic, in every area.
        A link used twice finds nothing more to remove; a forged one is refused."""
        subscription_id = verified_subscription(keys, current_tenant(self.session), token)
        if subscription_id is None:
            raise NotFound("This unsubscribe link is not valid.")
        found = await self.session.get(
            Subscription, (current_tenant(self.session), subscription_id)
        )
        if found is None:
            return []
        removed = (
            await self.session.execute(
                delete(Subscription)
                .where(
                    Subscription.address_key == found.address_key,
                    Subscription.topic_slug == found.topic_slug,
                )
                .returning(Subscription.topic_slug, Subscription.area_slug)
            )
        ).all()
        return await self._described([(t, a) for t, a in removed])

    async def dossier_address(self, code: str, key: str) -> Address:
        """Where the applicant of a dossier is reached, for the holder of its tracking key.
        A wrong key looks exactly like a wrong code."""
        row = (
            await self.session.execute(
                select(
                    Dossier.tracking_key, Dossier.applicant_phone, Dossier.applicant_email
                ).where(Dossier.code == code[:64])
            )
        ).first()
        if row is None or not hmac.compare_digest(key.encode(), row.tracking_key.encode()):
            raise NotFound(f"No dossier '{code[:64]}'.")
        if not row.applicant_phone and not row.applicant_email:
            raise Invalid("Hồ sơ không có số điện thoại hay email để nhận tin. (No address.)")
        return Address(phone=row.applicant_phone, email=row.applicant_email)

    async def subscriptions_of(self, to: Address) -> list[Subscribed]:
        rows = (
            await self.session.execute(
                select(Subscription.topic_slug, Subscription.area_slug)
                .where(Subscription.address_key == address_key(to))
                .order_by(Subscription.topic_slug, Subscription.area_slug)
            )
        ).all()
        return await self._described([(t, a) for t, a in rows])

    async def _described(self, pairs: Sequence[tuple[str, str]]) -> list[Subscribed]:
        if not pairs:
            return []
        topics = {
            t.slug: t.name
            for t in await self.session.scalars(
                select(Topic).where(Topic.slug.in_({t for t, _ in pairs}))
            )
        }
        areas = {
            a.slug: a.name
            for a in await self.session.scalars(
                select(Area).where(Area.slug.in_({a for _, a in pairs if a}))
            )
        }
        return [
            Subscribed(
                topic=topics.get(t, t),
                topic_slug=t,
                area=areas.get(a, a) if a else None,
                area_slug=a,
            )
            for t, a in pairs
        ]
