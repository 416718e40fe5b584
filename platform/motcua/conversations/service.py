"""The conversation: one stored inbound event handled, the answer written as a notice on
the channel the citizen used. Commands are read by commands.py; this decides what they do."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from motcua.catalog.folding import fold
from motcua.catalog.service import CatalogService
from motcua.conversations import identity
from motcua.conversations.commands import DOSSIER_CODE, Command, read
from motcua.conversations.models import ChatCitizen, ReceivedEvent
from motcua.conversations.threads import ThreadService
from motcua.dates import vn_date
from motcua.dossiers.applicants import normalise_phone
from motcua.dossiers.lifecycle import OPEN, STATUS_TEXT
from motcua.dossiers.schemas import RatingIn
from motcua.dossiers.service import LEVEL_NAMES, DossierService, Links
from motcua.errors import Problem
from motcua.notices.outbox import write_notices
from motcua.tenancy.directory import TenantRef

log = logging.getLogger(__name__)

FLOOD_WINDOW: Final = timedelta(minutes=1)
FLOOD_LIMIT: Final = 10  # messages a sender may send a minute before the chat asks to wait
REPLY_CHARS: Final = {"sms": 600}  # longer answers are cut (the chat takes 2,000)
DEFAULT_REPLY_CHARS: Final = 1900
SEARCH_RESULTS: Final = 3

HELP: Final = (
    "Ông/Bà có thể nhắn:\n"
    '• Mã hồ sơ (hoặc "tra cứu <mã>"): tình trạng hồ sơ\n'
    '• "hồ sơ của tôi": các hồ sơ của Ông/Bà (cần xác nhận số điện thoại: "sđt 09…")\n'
    '• "thủ tục <tên>": tìm thủ tục, giấy tờ, lệ phí, thời hạn\n'
    '• "đăng ký tin <chủ đề>" / "hủy đăng ký": nhận tin tức, chính sách mới\n'
    '• "dữ liệu của tôi" / "xóa dữ liệu"\n'
    "Mọi câu hỏi khác được chuyển đến cán bộ trả lời."
)


@dataclass
class Outcome:
    erased: bool = False  # the citizen's data, this event included, is gone


class ConversationService:
    def __init__(self, session: AsyncSession, tenant: TenantRef, links: Links) -> None:
        self.session = session
        self.tenant = tenant
        self.dossiers = DossierService(session, tenant, links)
        self.threads = ThreadService(session, tenant)

    async def handle(self, event: ReceivedEvent, citizen: ChatCitizen) -> Outcome:
        """One event of `citizen`, whom the caller holds locked (identity.citizen_for)."""
        at = event.created_at or datetime.now(UTC)
        citizen.last_seen_at = at
        name = str(event.details.get("name") or "")
        if name:
            citizen.name = name[:200]
        match event.kind:
            case "follow":
                identity.follow(citizen, True, at)
                await self.say(
                    citizen,
                    f"{self.tenant.name} cảm ơn Ông/Bà đã quan tâm. Để nhận thông báo hồ sơ "
                    f'trong Zalo, nhắn "sđt <số điện thoại>" đã dùng khi nộp hồ sơ.\n{HELP}',
                )
            case "unfollow":
                identity.follow(citizen, False, at)  # nothing can be sent to them any more
            case "shared_info":
                await self._shared_phone(citizen, event, at)
            case "text":
                return await self._text(citizen, event.text, at)
        return Outcome()

    async def say(
        self, citizen: ChatCitizen, text: str, *, kind: str = "chat", forget: bool = False
    ) -> None:
        """An answer to the citizen on the channel they wrote from."""
        limit = REPLY_CHARS.get(citizen.channel, DEFAULT_REPLY_CHARS)
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        await write_notices(
            self.session,
            kind=kind,
            to=identity.address_of(citizen.channel, citizen.sender),
            values={"salutation": "Ông/Bà", "province": self.tenant.name, "reply": text},
            dossier_code=None,
            test=False,
            channels=[citizen.channel],
            forget=forget,
        )

    async def _flooding(self, citizen: ChatCitizen, at: datetime) -> int:
        """How many texts this sender sent in the last minute, this one included."""
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    ReceivedEvent.channel == citizen.channel,
                    ReceivedEvent.sender == citizen.sender,
                    ReceivedEvent.kind == "text",
                    ReceivedEvent.created_at > at - FLOOD_WINDOW,
                    ReceivedEvent.created_at <= at,
                )
            )
            or 0
        )

    async def _text(self, citizen: ChatCitizen, text: str, at: datetime) -> Outcome:
        sent = await self._flooding(citizen, at)
        if sent > FLOOD_LIMIT:
            # Kept for staff, never dropped; the citizen hears once a minute to slow down.
            await self.threads.citizen_asks(citizen, text, at)
            if sent == FLOOD_LIMIT + 1:
                await self.say(
                    citizen,
                    "Ông/Bà gửi nhiều tin nhắn quá nhanh. Xin vui lòng chờ 1 phút rồi nhắn "
                    "tiếp; các tin đã gửi được chuyển đến cán bộ.",
                )
            return Outcome()
        command = read(
            text,
            rating_pending=citizen.rating_code is not None,
            code_pending=citizen.pending_phone is not None,
        )
        try:
            return await self._run(citizen, command, text, at)
        except Problem as problem:  # a rule the citizen broke: tell them, keep the chat going
            await self.say(citizen, problem.detail)
            return Outcome()

    async def _run(
        self, citizen: ChatCitizen, command: Command, text: str, at: datetime
    ) -> Outcome:
        match command.kind:
            case "lookup":
                await self._lookup(citizen, command.argument)
            case "my_dossiers":
                await self._my_dossiers(citizen)
            case "procedures":
                await self._procedures(citizen, command.argument)
            case "subscribe":
                await self._subscribe(citizen, command.argument)
            case "unsubscribe":
                await self._unsubscribe(citizen, command.argument)
            case "link_phone":
                await self._link_phone(citizen, command.argument, at)
            case "confirm_code":
                await self._confirm(citizen, command.argument, at)
            case "my_data":
                await self._my_data(citizen)
            case "erase":
                await self.say(
                    citizen,
                    "Đã xóa dữ liệu trò chuyện của Ông/Bà (danh tính, số điện thoại liên kết, "
                    "câu hỏi, tin nhắn, đăng ký nhận tin). Hồ sơ thủ tục vẫn được lưu theo "
                    "quy định.",
                    forget=True,
                )
                await identity.erase(self.session, citizen)
                return Outcome(erased=True)
            case "help":
                await self.say(citizen, HELP)
            case "rating":
                assert command.levels is not None
                await self._rate(citizen, command.levels)
            case "question":
                _, new = await self.threads.citizen_asks(citizen, text, at)
                if new:
                    await self.say(
                        citizen,
                        "Câu hỏi của Ông/Bà đã được chuyển đến cán bộ. Ông/Bà sẽ nhận trả lời "
                        "tại đây trong giờ làm việc.",
                    )
        return Outcome()

    # -- look-ups ------------------------------------------------------------------------

    async def _lookup(self, citizen: ChatCitizen, argument: str) -> None:
        found = DOSSIER_CODE.search(argument)
        code = found.group(1) if found else argument.strip()[:64]
        if not code:
            await self.say(citizen, "Xin nhắn mã hồ sơ in trên giấy tiếp nhận, ví dụ: tra cứu …")
            return
        dossier = await identity.find_dossier(self.session, code)
        if dossier is None:
            await self.say(
                citizen,
                f"Không tìm thấy hồ sơ {code}. Xin Ông/Bà kiểm tra lại mã in trên giấy tiếp nhận.",
            )
            return
        due = vn_date(dossier.due_at, self.tenant.timezone)
        status = STATUS_TEXT[dossier.status]
        if citizen.phone and citizen.phone == dossier.applicant_phone:
            await self.say(
                citizen,
                f"Hồ sơ {dossier.code} ({dossier.procedure_name}): {status}. Cơ quan đang "
                f"giải quyết: {dossier.agency_name}. Ngày hẹn trả kết quả: {due}.",
            )
            return
        # Not theirs (or not yet linked): what the public tracking shows without its key.
        await self.say(
            citizen,
            f"Hồ sơ {dossier.code}: {status}. Ngày hẹn trả kết quả: {due}. Để xem chi tiết, "
            'Ông/Bà xác nhận số điện thoại đã dùng khi nộp hồ sơ: nhắn "sđt <số điện thoại>".',
        )

    async def _my_dossiers(self, citizen: ChatCitizen) -> None:
        if not citizen.phone:
            await self.say(
                citizen,
                'Ông/Bà chưa xác nhận số điện thoại. Nhắn "sđt <số điện thoại>" đã dùng khi '
                "nộp hồ sơ để nhận mã xác nhận.",
            )
            return
        dossiers = await identity.dossiers_of(self.session, citizen.phone)
        if not dossiers:
            await self.say(citizen, "Chưa có hồ sơ nào được nộp với số điện thoại của Ông/Bà.")
            return
        dossiers.sort(key=lambda d: d.status not in OPEN)  # open ones first, newest first
        lines = [
            f"• {d.code} – {d.procedure_name}: {STATUS_TEXT[d.status]}"
            + (f", hẹn trả {vn_date(d.due_at, self.tenant.timezone)}" if d.status in OPEN else "")
            for d in dossiers
        ]
        await self.say(citizen, "Hồ sơ của Ông/Bà:\n" + "\n".join(lines))

    async def _procedures(self, citizen: ChatCitizen, words: str) -> None:
        if not fold(words):
            await self.say(citizen, "Xin nhắn tên thủ tục, ví dụ: thủ tục đăng ký kết hôn.")
            return
        page = await CatalogService(self.session).search(words[:200], per_page=SEARCH_RESULTS)
        if not page.items:
            await self.say(
                citizen,
                f'Không tìm thấy thủ tục nào cho "{words[:100]}". Ông/Bà thử từ khóa khác, '
                "hoặc nhắn câu hỏi để cán bộ trả lời.",
            )
            return
        blocks = [
            f"{i}. {p.name} ({p.code})\n"
            f"- Giấy tờ: {'; '.join(p.documents) or 'không'}\n"
            f"- Lệ phí: {p.fee or 'không'}\n"
            f"- Thời hạn: {p.processing_time.text}"
            for i, p in enumerate(page.items, 1)
        ]
        await self.say(citizen, "\n\n".join(blocks))

    # -- subscriptions (the broadcast domain's service) ---------------------------------

    async def _subscribe(self, citizen: ChatCitizen, argument: str) -> None:
        from motcua.broadcasts.service import SubscriptionService, UnknownArea, UnknownTopic

        subscriptions = SubscriptionService(self.session)
        words = argument.split()
        if words and fold(words[0]) == "nhan":
            words = words[1:]  # "đăng ký nhận tin …"
        if not words:
            names = [t.name for t in await subscriptions.topics()]
            await self.say(citizen, f'Xin nhắn "đăng ký tin <chủ đề>". Chủ đề: {", ".join(names)}.')
            return
        # "tin tức An Bình": the longest run of words naming a topic, the rest an area; the
        # leading "tin" may be the command's word or the topic's ("tin tức").
        candidates = [words] + ([words[1:]] if fold(words[0]) == "tin" and len(words) > 1 else [])
        problem: Problem | None = None
        for candidate in candidates:
            for cut in range(len(candidate), 0, -1):
                topic, area = " ".join(candidate[:cut]), " ".join(candidate[cut:]) or None
                try:
                    done = await subscriptions.subscribe(
                        identity.address_of(citizen.channel, citizen.sender), topic, area
                    )
                except UnknownTopic as exc:
                    problem = problem or exc
                    continue
                except UnknownArea as exc:
                    problem = exc
                    continue
                where = f" tại {done.area}" if done.area else ""
                await self.say(
                    citizen,
                    f'Ông/Bà đã đăng ký nhận tin "{done.topic}"{where}. Nhắn "hủy đăng ký" '
                    "để ngừng nhận.",
                )
                return
        assert problem is not None
        raise problem

    async def _unsubscribe(self, citizen: ChatCitizen, argument: str) -> None:
        from motcua.broadcasts.service import SubscriptionService

        topic = argument.strip()
        if fold(topic).startswith("tin ") and len(topic.split()) > 1:
            # "hủy đăng ký tin chính sách mới"; "tin tức" stays whole below if it is a topic.
            services = SubscriptionService(self.session)
            known = {fold(t.name) for t in await services.topics()}
            if fold(topic) not in known:
                topic = topic.split(maxsplit=1)[1]
        removed = await SubscriptionService(self.session).unsubscribe(
            identity.address_of(citizen.channel, citizen.sender), topic or None
        )
        if not removed:
            await self.say(citizen, "Ông/Bà chưa đăng ký nhận tin nào.")
            return
        names = ", ".join(sorted({r.topic for r in removed}))
        await self.say(citizen, f"Ông/Bà đã hủy đăng ký nhận tin: {names}.")

    # -- identity ------------------------------------------------------------------------

    async def _link_phone(self, citizen: ChatCitizen, typed: str, at: datetime) -> None:
        try:
            phone = normalise_phone(typed)
        except ValueError:
            await self.say(citizen, "Số điện thoại chưa đúng. Ví dụ: sđt 0912345678.")
            return
        if citizen.phone == phone:
            await self.say(citizen, "Số điện thoại này đã được xác nhận.")
            return
        code = identity.new_code(citizen, phone, at)
        notices = await write_notices(
            self.session,
            kind="phone_code",
            to=identity.address_of("sms", phone),
            values={"salutation": "Ông/Bà", "province": self.tenant.name, "reply": code},
            dossier_code=None,
            test=False,
            channels=["sms"],
            forget=True,  # the code is kept hashed only, here too once it has gone
        )
        if not notices:
            citizen.pending_phone = citizen.code_hash = citizen.code_expires_at = None
            await self.say(
                citizen,
                f"{self.tenant.name} chưa gửi được tin nhắn SMS. Ông/Bà có thể chia sẻ số điện "
                "thoại qua Zalo, hoặc hỏi cán bộ tại bộ phận một cửa.",
            )
            return
        await self.say(
            citizen,
            "Mã xác nhận đã được gửi bằng SMS đến số điện thoại trên. Xin nhắn lại mã 6 chữ số "
            "(mã có hiệu lực 10 phút).",
        )

    async def _confirm(self, citizen: ChatCitizen, code: str, at: datetime) -> None:
        match identity.check_code(citizen, code.strip(), at):
            case "ok":
                count = len(await identity.dossiers_of(self.session, citizen.phone or "", 100))
                await self.say(
                    citizen,
                    f"Đã xác nhận số điện thoại. Ông/Bà có {count} hồ sơ với số này; nhắn "
                    '"hồ sơ của tôi" để xem. Thông báo hồ sơ sẽ được gửi tại đây.',
                )
            case "wrong":
                await self.say(citizen, "Mã xác nhận chưa đúng. Xin kiểm tra tin nhắn SMS.")
            case "expired":
                await self.say(
                    citizen, 'Mã xác nhận đã hết hạn. Nhắn lại "sđt <số>" để nhận mã mới.'
                )
            case _:
                await self.say(citizen, 'Chưa có mã nào được gửi. Nhắn "sđt <số điện thoại>".')

    async def _shared_phone(self, citizen: ChatCitizen, event: ReceivedEvent, at: datetime) -> None:
        """Zalo gives the phone only with the citizen's consent: it is confirmed as given."""
        raw = str(event.details.get("phone") or "")
        try:
            phone = normalise_phone(raw)
        except ValueError:
            await self.say(citizen, 'Số điện thoại chia sẻ chưa đúng. Nhắn "sđt <số>" để thử lại.')
            return
        identity.link_phone(citizen, phone, event.channel, at)
        count = len(await identity.dossiers_of(self.session, phone, 100))
        await self.say(
            citizen,
            f'Đã liên kết số điện thoại. Ông/Bà có {count} hồ sơ với số này; nhắn "hồ sơ của '
            'tôi" để xem.',
        )

    async def _my_data(self, citizen: ChatCitizen) -> None:
        held = await identity.held_about(self.session, citizen)
        phone = held["phone"] or "chưa liên kết"
        since = vn_date(held["first_seen_at"], self.tenant.timezone)
        await self.say(
            citizen,
            f"{self.tenant.name} lưu về Ông/Bà: mã người dùng {held['channel']}, tên "
            f'"{held["name"] or "không có"}", số điện thoại {phone}, từ ngày {since}; '
            f"{held['messages_received']} tin nhắn đã nhận, {held['threads']} câu hỏi. "
            'Nhắn "xóa dữ liệu" để xóa.',
        )

    # -- ratings -------------------------------------------------------------------------

    async def _rate(self, citizen: ChatCitizen, levels: tuple[int, int]) -> None:
        code = citizen.rating_code
        assert code is not None
        dossier = await identity.find_dossier(self.session, code)
        citizen.rating_code = None
        if dossier is None:
            return
        attitude, result = LEVEL_NAMES[levels[0]], LEVEL_NAMES[levels[1]]
        await self.dossiers.rate(
            dossier.code,
            dossier.tracking_key,
            RatingIn(attitude=attitude, result=result),  # type: ignore[arg-type]
        )
        await self.say(citizen, f"Cảm ơn Ông/Bà đã đánh giá hồ sơ {dossier.code}.")
