"""Make a synthetic province pack of any size, for benchmarks.

    .venv/bin/python bench/make_pack.py OUT_DIR --slug tinh-tong-hop --procedures 2000 \
        --departments 20 --communes 150

Names are Vietnamese, built from real procedure words, so search behaves as on real data.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

VERBS = [
    "Đăng ký",
    "Cấp",
    "Cấp lại",
    "Cấp đổi",
    "Gia hạn",
    "Điều chỉnh",
    "Thu hồi",
    "Xác nhận",
    "Thẩm định",
    "Công nhận",
    "Chấm dứt",
    "Thay đổi",
]
OBJECTS = [
    "giấy phép xây dựng",
    "giấy chứng nhận quyền sử dụng đất",
    "hộ kinh doanh",
    "khai sinh",
    "kết hôn",
    "thường trú",
    "tạm trú",
    "giấy phép lái xe quốc tế",
    "thẻ bảo hiểm y tế",
    "trợ cấp thất nghiệp",
    "chứng chỉ hành nghề",
    "giấy phép kinh doanh",
    "biến động đất đai",
    "phiếu lý lịch tư pháp",
    "giấy phép lao động",
    "nhà ở riêng lẻ",
    "cơ sở đủ điều kiện an toàn thực phẩm",
]
QUALIFIERS = [
    "",
    "",
    "có yếu tố nước ngoài",
    "cho tổ chức",
    "cho cá nhân",
    "lần đầu",
    "trong trường hợp bị mất",
    "tại cấp xã",
    "đối với doanh nghiệp",
]
FIELDS = [
    "Hộ tịch",
    "Cư trú",
    "Đất đai",
    "Xây dựng",
    "Đường bộ",
    "Bảo hiểm y tế",
    "Việc làm",
    "Thành lập và hoạt động của hộ kinh doanh",
    "Chứng thực",
    "Y tế",
    "Giáo dục",
]
COMMUNE_WORDS = [
    "An",
    "Bình",
    "Hòa",
    "Phú",
    "Tân",
    "Long",
    "Mỹ",
    "Thạnh",
    "Vĩnh",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Hưng",
    "Lộc",
    "Phước",
    "Thuận",
    "Xuân",
    "Đức",
    "Quang",
]


def make_pack(
    out: Path, *, slug: str, procedures: int, departments: int, communes: int, seed: int = 7
) -> Path:
    rnd = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    root = slug.upper().replace("-", "")[:6]
    (out / "tenant.toml").write_text(
        f'slug = "{slug}"\nname = "Tỉnh Tổng Hợp {slug}"\nprovince_code = "99"\n'
        f'domains = ["{slug}.localhost"]\ntimezone = "Asia/Ho_Chi_Minh"\nlocale = "vi"\n\n'
        '[channels]\norder = ["console"]\n\n[channels.console]\n',
        "utf-8",
    )
    agencies = [(root, f"Ủy ban nhân dân tỉnh {slug}", "province", "")]
    agencies += [
        (f"{root}.S{i:02d}", f"Sở số {i} tỉnh {slug}", "department", root)
        for i in range(1, departments + 1)
    ]
    agencies += [
        (
            f"{root}.X{i:03d}",
            f"Ủy ban nhân dân xã {rnd.choice(COMMUNE_WORDS)} {rnd.choice(COMMUNE_WORDS)} {i}",
            "commune",
            root,
        )
        for i in range(1, communes + 1)
    ]
    with (out / "agencies.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["code", "name", "level", "parent_code"])
        writer.writerows(agencies)
    department_codes = [a[0] for a in agencies if a[2] == "department"]
    commune_codes = [a[0] for a in agencies if a[2] == "commune"]
    with (out / "procedures.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "code",
                "name",
                "field",
                "level",
                "agency_codes",
                "processing_days",
                "fee",
                "documents",
                "result",
                "online_level",
                "legal_basis",
            ]
        )
        for i in range(procedures):
            obj = rnd.choice(OBJECTS)
            name = " ".join(filter(None, [rnd.choice(VERBS), obj, rnd.choice(QUALIFIERS)]))
            commune = rnd.random() < 0.5
            agencies_of = (
                rnd.sample(commune_codes, min(5, len(commune_codes)))
                if commune
                else [rnd.choice(department_codes)]
            )
            writer.writerow(
                [
                    f"{1 + i // 100000}.{i % 1000000:06d}",
                    f"{name} (mẫu {i})",
                    rnd.choice(FIELDS),
                    "commune" if commune else "province",
                    "|".join(agencies_of),
                    rnd.choice(["1", "3", "5", "7", "10", "15", "20", "4h", "0.5"]),
                    rnd.choice(["Miễn phí", "50.000 đồng", "100.000 đồng/hồ sơ"]),
                    f"Tờ khai {obj}|Giấy tờ tùy thân (xuất trình)|Bản sao giấy tờ liên quan",
                    f"Kết quả {obj}",
                    rnd.choice(["full", "partial", "none"]),
                    "Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP",
                ]
            )
    (out / "calendar.toml").write_text("# Synthetic pack: the national calendar only.\n", "utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--slug", default="tinh-tong-hop")
    parser.add_argument("--procedures", type=int, default=2000)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--communes", type=int, default=150)
    args = parser.parse_args()
    make_pack(
        args.out,
        slug=args.slug,
        procedures=args.procedures,
        departments=args.departments,
        communes=args.communes,
    )
    print(args.out)


if __name__ == "__main__":
    main()
