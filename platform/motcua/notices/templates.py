"""Notice wording: defaults in Vietnamese (and English) for every kind, per channel, with
the placeholders a template may use, checked when a province saves its own."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Final

# What a template may say; anything else in braces is refused when saved.
PLACEHOLDERS: Final = frozenset(
    {
        "salutation",  # how the citizen is addressed: "Ông/Bà", or as they asked
        "province",
        "code",
        "procedure",
        "agency",
        "received_date",
        "due_date",
        "new_due_date",
        "tracking_url",
        "rating_url",
        "reason",
        "reply",
        # Broadcasts (broadcasts/): the topic's name, the admin's text, link and image.
        "topic",
        "text",
        "link",
        "image_url",
        "unsubscribe_url",
    }
)


@dataclass(frozen=True)
class Template:
    """A wording as a notice uses it: the version is recorded on the notice."""

    subject: str
    body: str
    version: int


KINDS: Final = (
    "received",
    "in_progress",
    "transferred",
    "supplement_requested",
    "result_ready_early",
    "result_ready",
    "result_ready_late",
    "late",
    "returned",
    "rejected",
    "withdrawn",
    "reply",
    "broadcast",  # a province's news or policy message (broadcasts/)
    "chat",  # the chat's own answers: look-ups, searches, confirmations
    "phone_code",
    "rating_offer",
)

# (subject, body) per locale and kind. SMS gets the same text: providers split it.
DEFAULTS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "vi": {
        "received": (
            "Đã tiếp nhận hồ sơ {code}",
            "{province}: đã tiếp nhận hồ sơ {code} ({procedure}) của {salutation} tại {agency} "
            "ngày {received_date}. Hẹn trả kết quả: {due_date}. Theo dõi: {tracking_url}",
        ),
        "in_progress": (
            "Hồ sơ {code} đang được giải quyết",
            "Hồ sơ {code} ({procedure}) đang được {agency} giải quyết. "
            "Hẹn trả kết quả: {due_date}. Theo dõi: {tracking_url}",
        ),
        "transferred": (
            "Hồ sơ {code} đã được chuyển",
            "Hồ sơ {code} đã được chuyển đến {agency} để giải quyết. "
            "Hẹn trả kết quả: {due_date}. Theo dõi: {tracking_url}",
        ),
        "supplement_requested": (
            "Hồ sơ {code} cần bổ sung",
            "Hồ sơ {code} cần bổ sung: {reason}. Mời {salutation} liên hệ {agency}. "
            "Thời gian chờ bổ sung không tính vào thời hạn giải quyết. {tracking_url}",
        ),
        "result_ready_early": (
            "Hồ sơ {code} đã có kết quả sớm",
            "Hồ sơ {code} ({procedure}) đã có kết quả sớm hơn ngày hẹn {due_date}. Mời "
            "{salutation} đến {agency} nhận kết quả ngay hôm nay. {tracking_url}",
        ),
        "result_ready": (
            "Hồ sơ {code} đã có kết quả",
            "Hồ sơ {code} ({procedure}) đã có kết quả. Mời {salutation} đến {agency} nhận "
            "kết quả. {tracking_url}",
        ),
        "result_ready_late": (
            "Hồ sơ {code} đã có kết quả",
            "{province} chân thành xin lỗi {salutation} vì hồ sơ {code} có kết quả chậm so với "
            "ngày hẹn {due_date}. Mời {salutation} đến {agency} nhận kết quả. {tracking_url}",
        ),
        "late": (
            "Xin lỗi về hồ sơ {code}",
            "{province} chân thành xin lỗi {salutation}: hồ sơ {code} chưa giải quyết xong "
            "đúng hẹn {due_date}. Ngày hẹn mới: {new_due_date}. {tracking_url}",
        ),
        "returned": (
            "Hồ sơ {code} đã trả kết quả",
            "Cảm ơn {salutation} đã sử dụng dịch vụ. Hồ sơ {code} đã trả kết quả. Mời "
            "{salutation} đánh giá mức độ hài lòng: {rating_url}",
        ),
        "rejected": (
            "Hồ sơ {code} không được giải quyết",
            "Hồ sơ {code} ({procedure}) không được giải quyết. Lý do: {reason}. {tracking_url}",
        ),
        "withdrawn": (
            "Hồ sơ {code} đã được rút",
            "Hồ sơ {code} ({procedure}) đã được rút theo đề nghị của {salutation}. {tracking_url}",
        ),
        "reply": ("Trả lời câu hỏi của {salutation}", "{agency} trả lời: {reply}"),
        "broadcast": ("{province}: {topic}", "{province} – {topic}: {text} {link}"),
        "chat": ("{province}", "{reply}"),
        "phone_code": (
            "Mã xác nhận số điện thoại",
            "{province}: mã xác nhận số điện thoại của {salutation} là {reply}. Mã có hiệu lực "
            "10 phút. Không cung cấp mã này cho bất kỳ ai.",
        ),
        "rating_offer": (
            "Đánh giá hồ sơ {code}",
            "Hồ sơ {code} đã trả kết quả. Mời {salutation} đánh giá mức độ hài lòng: trả lời "
            "3 (rất hài lòng), 2 (hài lòng) hoặc 1 (không hài lòng).",
        ),
    },
    "en": {
        "received": (
            "Dossier {code} received",
            "{province}: dossier {code} ({procedure}) received at {agency} on "
            "{received_date}. Result promised for {due_date}. Follow it: "
            "{tracking_url}",
        ),
        "in_progress": (
            "Dossier {code} in progress",
            "Dossier {code} is being handled by {agency}. Result promised for "
            "{due_date}. {tracking_url}",
        ),
        "transferred": (
            "Dossier {code} transferred",
            "Dossier {code} was passed to {agency}. Result promised for {due_date}. {tracking_url}",
        ),
        "supplement_requested": (
            "Dossier {code} needs more papers",
            "Dossier {code} needs: {reason}. Please contact {agency}. {tracking_url}",
        ),
        "result_ready_early": (
            "Dossier {code} is ready early",
            "Dossier {code} is ready before the promised {due_date}: you "
            "can collect it at {agency} today. {tracking_url}",
        ),
        "result_ready": (
            "Dossier {code} is ready",
            "Dossier {code} is ready: please collect it at {agency}. {tracking_url}",
        ),
        "result_ready_late": (
            "Dossier {code} is ready",
            "We apologise: dossier {code} is ready later than the promised "
            "{due_date}. Please collect it at {agency}. {tracking_url}",
        ),
        "late": (
            "About dossier {code}",
            "We apologise: dossier {code} was not ready by {due_date}. New date: "
            "{new_due_date}. {tracking_url}",
        ),
        "returned": (
            "Dossier {code} returned",
            "Thank you. Dossier {code} has been returned. Please rate the service: {rating_url}",
        ),
        "rejected": (
            "Dossier {code} refused",
            "Dossier {code} was refused: {reason}. {tracking_url}",
        ),
        "withdrawn": (
            "Dossier {code} withdrawn",
            "Dossier {code} was withdrawn at your request. {tracking_url}",
        ),
        "reply": ("Answer to your question", "{agency} answers: {reply}"),
        "broadcast": ("{province}: {topic}", "{province} – {topic}: {text} {link}"),
        "chat": ("{province}", "{reply}"),
        "phone_code": (
            "Phone confirmation code",
            "{province}: your phone confirmation code is {reply}. It is valid for 10 minutes. "
            "Never give it to anyone.",
        ),
        "rating_offer": (
            "Rate dossier {code}",
            "Dossier {code} has been returned. Please rate the service: answer 3 (very "
            "satisfied), 2 (satisfied) or 1 (not satisfied).",
        ),
    },
}


def placeholders_in(template: str) -> list[str]:
    """The placeholders a template uses; ValueError when it is not a valid template."""
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            raise ValueError(f"'{{{name}}}' is not a plain placeholder")
        names.append(name)
    return names


def template_problems(subject: str, body: str) -> list[dict[str, str]]:
    problems = []
    for field, text in (("subject", subject), ("body", body)):
        try:
            unknown = sorted(set(placeholders_in(text)) - PLACEHOLDERS)
        except ValueError as exc:
            problems.append({"field": field, "message": str(exc)})
            continue
        problems += [
            {"field": field, "message": f"unknown placeholder {{{name}}}"} for name in unknown
        ]
    if not body.strip():
        problems.append({"field": "body", "message": "is required"})
    return problems


def fill(template: str, values: dict[str, str]) -> str:
    """Fill placeholders; a value a template uses but the notice lacks is left empty."""
    return string.Formatter().vformat(template, (), _Missing(values))


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


# GSM 03.38: the basic set (1 unit each) and its extension (2 units each).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def sms_segments(text: str) -> tuple[str, int, int]:
    """(encoding, length in units, parts): GSM 160/153 a part, UCS-2 70/67 (Vietnamese with
    diacritics is UCS-2)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    parts = 1 if units <= single else -(-units // part)
    return encoding, units, parts
