"""The dossier lifecycle: statuses, actions, and which action moves which status where.

received → in_progress ⇄ supplement_requested;  in_progress → result_ready → returned
in_progress → rejected;  any open dossier → withdrawn;  transfer keeps in_progress
reschedule (an apology and a new promised date) keeps a dossier not yet finished where it is
"""

from __future__ import annotations

from typing import Final, Literal

from motcua.errors import Conflict

Status = Literal[
    "received",
    "in_progress",
    "supplement_requested",
    "result_ready",
    "returned",
    "rejected",
    "withdrawn",
]
Action = Literal[
    "start",
    "transfer",
    "request_supplement",
    "supplement_received",
    "complete",
    "return",
    "reject",
    "withdraw",
    "reschedule",
    "note",
]
Timeliness = Literal["early", "on_time", "late"]

OPEN: Final = ("received", "in_progress", "supplement_requested", "result_ready")
# Not finished yet: its promise can still be missed, and moved (phiếu xin lỗi và hẹn lại).
UNFINISHED: Final = ("received", "in_progress", "supplement_requested")

TRANSITIONS: Final[dict[tuple[str, str], Status]] = {
    ("received", "start"): "in_progress",
    ("in_progress", "transfer"): "in_progress",
    ("in_progress", "request_supplement"): "supplement_requested",
    ("supplement_requested", "supplement_received"): "in_progress",
    ("in_progress", "complete"): "result_ready",
    ("result_ready", "return"): "returned",
    ("in_progress", "reject"): "rejected",
    **{(status, "withdraw"): "withdrawn" for status in OPEN},
    **{(status, "reschedule"): status for status in UNFINISHED},
    # An internal note changes nothing but the timeline.
    **{(status, "note"): status for status in (*OPEN, "returned", "rejected", "withdrawn")},
}

# The citizen must learn why: these actions need a note.
NEEDS_REASON: Final = frozenset({"request_supplement", "reject", "withdraw", "reschedule"})

# The national portal's dossier status codes, so reports and a later sync speak alike.
NATIONAL_CODES: Final[dict[str, int]] = {
    "received": 2,
    "in_progress": 4,
    "supplement_requested": 5,
    "withdrawn": 7,
    "rejected": 8,  # dừng xử lý: refused after it was accepted
    "result_ready": 9,
    "returned": 10,
}

# What the citizen reads, in Vietnamese first.
STATUS_TEXT: Final[dict[str, str]] = {
    "received": "Đã tiếp nhận",
    "in_progress": "Đang giải quyết",
    "supplement_requested": "Cần bổ sung hồ sơ",
    "result_ready": "Đã có kết quả, mời nhận",
    "returned": "Đã trả kết quả",
    "rejected": "Từ chối giải quyết",
    "withdrawn": "Đã rút hồ sơ",
}
ACTION_TEXT: Final[dict[str, str]] = {
    "receive": "Tiếp nhận hồ sơ",
    "start": "Bắt đầu giải quyết",
    "transfer": "Chuyển hồ sơ",
    "request_supplement": "Yêu cầu bổ sung hồ sơ",
    "supplement_received": "Đã nhận hồ sơ bổ sung",
    "complete": "Đã có kết quả",
    "return": "Đã trả kết quả",
    "reject": "Từ chối giải quyết",
    "withdraw": "Rút hồ sơ",
    "reschedule": "Xin lỗi và hẹn lại ngày trả kết quả",
    "note": "Ghi chú nội bộ",
}
TIMELINESS_TEXT: Final[dict[str, str]] = {
    "early": "Trước hạn",
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
}


class TransitionNotAllowed(Conflict):
    def __init__(self, status: str, action: str) -> None:
        allowed = actions_from(status)
        super().__init__(
            f"A dossier that is '{status}' cannot '{action}'; it can: "
            f"{', '.join(allowed) or 'nothing more'}.",
            current_status=status,
            allowed_actions=allowed,
        )


def actions_from(status: str) -> list[str]:
    return [action for (source, action) in TRANSITIONS if source == status]


def next_status(status: str, action: str) -> Status:
    try:
        return TRANSITIONS[status, action]
    except KeyError:
        raise TransitionNotAllowed(status, action) from None
