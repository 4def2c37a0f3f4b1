"""個別規程 有料オプション (令和8年2月1日現在) as data: the facts `load_regulation` writes.

The 附則 (revisions) are read from the regulation's own text in `data/`; everything the text states
only in prose (who may use what, the 別紙1 table) is declared here, each fact beside its source.
"""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from core.wareki import parse_amendment_heading, parse_date

from .choices import ChargeBasis, EligibilityKind, FeeKind, Pricing

REGULATION_TEXT = Path(__file__).resolve().parent / "data" / "regulation_r080201.txt"

# The revision to which the seed's 別紙1 fee table is attached (DOMAIN §3.12).
FEE_TABLE_REVISION = date(2026, 2, 1)

SERVICES = [
    ("web-highgrade2", "IIJ Web ハイグレード2 サービス"),
    ("web-standard2", "IIJ Web スタンダード2 サービス"),
    ("fiberaccess-f", "IIJ FiberAccess/F サービス"),
    ("account-type-a", "IIJ 接続アカウント管理サービス/タイプA"),
    ("account-type-e", "IIJ 接続アカウント管理サービス/タイプE"),
]

CARRIERS = [
    ("ntt-east", "東日本電信電話株式会社（NTT東日本）"),
    ("collabo", "当社が指定する第三者（光コラボレーション事業者）"),
    ("kddi", "KDDI株式会社（au）"),
]

CARRIER_SERVICES = [
    ("ntt-east", "flets-next-prio1", "フレッツ光ネクスト プライオ1"),
    ("collabo", "collabo-hikari", "コラボ光（フレッツ光ベーシック接続オプション対応回線に対応する回線）"),
    ("ntt-east", "b-flets", "Bフレッツ"),
    ("kddi", "packetwin", "PacketWIN"),
    ("kddi", "packetone", "PacketOne"),
]

SECTIONS = [
    (1, "特定接続オプション機能"),
    (2, "IIJ セキュア Web プラットフォーム アカウント追加オプション機能"),
    (3, "IPv6 接続オプション機能"),
]


@dataclass(frozen=True)
class OptionFact:
    code: str
    section: int
    name: str
    condition_article: str
    fee_article: str
    annex_ref: str
    variants: tuple[tuple[str, str, str | None], ...]  # (code, name, service code)
    eligibility: tuple[str, tuple[str, ...]]  # (kind, service or carrier-service codes)
    retired_on: date | None = None
    description: str = ""


_FLETS_VARIANTS = (
    ("type-a", "IIJ 接続アカウント管理サービス/タイプA", "account-type-a"),
    ("type-e", "IIJ 接続アカウント管理サービス/タイプE", "account-type-e"),
)
_STANDARD_VARIANT = (("standard", "標準", None),)
_RETIRED = date(2014, 3, 1)

OPTIONS = [
    OptionFact(
        "flets-hikari",
        1,
        "フレッツ光接続オプション機能",
        "第1条",
        "第2条",
        "別紙1(1)",
        _FLETS_VARIANTS,
        (EligibilityKind.CARRIER_LINE, ("flets-next-prio1", "collabo-hikari")),
        description=(
            "NTT東日本が提供する「フレッツ光ネクスト」中「プライオ1」（フレッツ光ベーシック接続オプション対応回線）、"
            "又は当社が指定する第三者が提供するコラボ光（同対応回線に対応する回線に限定）に対応。"
            "別紙1の冒頭にはフレッツ光ファミリー接続オプション対応回線の行の末尾のみが残っています。"
        ),
    ),
    OptionFact(
        "packetwin-metered",
        1,
        "PacketWIN接続オプション(従量課金)機能",
        "第1条",
        "第2条",
        "",
        _STANDARD_VARIANT,
        (EligibilityKind.CARRIER_LINE, ("packetwin",)),
    ),
    OptionFact(
        "packetwin-fixed",
        1,
        "PacketWIN接続オプション(固定課金)機能",
        "第1条",
        "第2条",
        "",
        _STANDARD_VARIANT,
        (EligibilityKind.CARRIER_LINE, ("packetwin",)),
    ),
    OptionFact(
        "packetone-metered",
        1,
        "PacketOne接続オプション(従量課金)機能",
        "第1条",
        "第2条",
        "",
        _STANDARD_VARIANT,
        (EligibilityKind.CARRIER_LINE, ("packetone",)),
        retired_on=_RETIRED,
    ),
    OptionFact(
        "packetone-win-fixed",
        1,
        "PacketOne/WIN接続オプション(固定課金)機能",
        "第1条",
        "第2条",
        "",
        _STANDARD_VARIANT,
        (EligibilityKind.CARRIER_LINE, ("packetone", "packetwin")),
        retired_on=_RETIRED,
    ),
    OptionFact(
        "b-flets",
        1,
        "Bフレッツ接続オプション機能",
        "第1条",
        "第2条",
        "",
        _FLETS_VARIANTS,
        (EligibilityKind.CARRIER_LINE, ("b-flets",)),
        retired_on=_RETIRED,
    ),
    OptionFact(
        "swp-accounts",
        2,
        "IIJ セキュア Web プラットフォーム アカウント追加オプション機能",
        "第3条",
        "第4条",
        "別紙1(2)",
        (("additional-accounts", "IIJ セキュア Web プラットフォーム追加アカウント使用料", None),),
        (EligibilityKind.SERVICE_CONTRACT, ("web-highgrade2", "web-standard2")),
    ),
    OptionFact(
        "ipv6",
        3,
        "IPv6 接続オプション機能",
        "第5条",
        "第6条",
        "別紙1(3)",
        (("fiberaccess-f", "IIJ FiberAccess/F サービス", "fiberaccess-f"),),
        (EligibilityKind.SERVICE_CONTRACT, ("fiberaccess-f",)),
    ),
]

ELIGIBILITY_TEXT = {
    "第1条": "特定接続オプション機能を利用するために必要な、特定の電気通信事業者が提供する特定のサービスに係る契約に"
    "ついては、契約者と当該特定の電気通信事業者との間で締結される必要があります。",
    "第3条": "IIJ セキュア Web プラットフォーム アカウント追加オプション機能を利用するには、当社が提供する IIJ Web "
    "ハイグレード 2 サービス又は IIJ Web スタンダード 2 サービスの契約者である必要があります。",
    "第5条": "IPv6 接続オプション機能を利用するには、別紙 1(3)に定める当社の別サービスの契約者である必要があります。",
}


@dataclass(frozen=True)
class FeeFact:
    option: str
    variant: str
    kind: str
    name: str
    pricing: str
    amount_yen: int | None
    block_size: int | None
    charge_basis: str
    note: str = ""


# 別紙1, all taken as monthly fees (DOMAIN §3.14).
FEES = [
    FeeFact(
        "flets-hikari",
        "type-a",
        FeeKind.MONTHLY,
        "IIJ 接続アカウント管理サービス/タイプA",
        Pricing.QUOTED,
        None,
        None,
        ChargeBasis.PER_ACCOUNT,
        "備考(1) 1契約アカウントあたりの料金です。",
    ),
    FeeFact(
        "flets-hikari",
        "type-e",
        FeeKind.MONTHLY,
        "IIJ 接続アカウント管理サービス/タイプE",
        Pricing.FIXED,
        0,
        None,
        ChargeBasis.PER_ACCOUNT,
        "備考(1) 1契約アカウントあたりの料金です。",
    ),
    FeeFact(
        "swp-accounts",
        "additional-accounts",
        FeeKind.MONTHLY,
        "IIJ セキュア Web プラットフォーム追加アカウント使用料",
        Pricing.PER_BLOCK,
        3000,
        10,
        ChargeBasis.PER_BLOCK,
    ),
    FeeFact(
        "ipv6",
        "fiberaccess-f",
        FeeKind.MONTHLY,
        "IIJ FiberAccess/F サービス",
        Pricing.FIXED,
        0,
        None,
        ChargeBasis.PER_CONTRACT,
    ),
]

SUCCESSION_REVISION = date(2014, 3, 1)
SUCCESSION_CONTRACTS_UNTIL = date(2014, 2, 28)
# 平成26年3月1日変更 附則 第2項〜第4項. Contracts keep their variant: the successor's variant of the same code.
SUCCESSIONS = [
    ("packetone-metered", "packetwin-metered", "平成26年3月1日変更 附則第2項"),
    ("packetone-win-fixed", "packetwin-fixed", "平成26年3月1日変更 附則第3項"),
    ("b-flets", "flets-hikari", "平成26年3月1日変更 附則第4項"),
]


@dataclass(frozen=True)
class RevisionFact:
    title: str
    amended_on: date
    effective_on: date
    provisions: str


_HEADING = re.compile(r"^(明治|大正|昭和|平成|令和)[\s\d元]+年[\s\d]+月[\s\d]+日変更$")
_PROVISION = re.compile(r"^(\d+ )?この契約約款は|^\d+ ")
_EFFECTIVE = re.compile(r"この契約約款は、(.+?)から実施します")


def read_revisions(path: Path = REGULATION_TEXT) -> list[RevisionFact]:
    """Return the 附則 of the regulation text, one per `…日変更` heading, in order."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    revisions: list[RevisionFact] = []
    i = 0
    while i < len(lines):
        if not _HEADING.match(lines[i]):
            i += 1
            continue
        heading = lines[i]
        amended_on = parse_amendment_heading(heading)
        paragraphs = []
        i += 1
        while i < len(lines) and not _HEADING.match(lines[i]):
            if lines[i]:
                if not _PROVISION.match(lines[i]):
                    break  # the annex table that follows the last 附則
                paragraphs.append(lines[i])
            i += 1
        provisions = "\n".join(paragraphs)
        found = _EFFECTIVE.search(provisions)
        effective_on = parse_date(found.group(1)) if found else amended_on
        title = re.sub(r"\s+", "", heading)
        revisions.append(RevisionFact(title, amended_on, effective_on, provisions))
    return revisions
