"""和暦 conversion, its template filters and form fields.

No test touches the database. Tests that render templates or clean forms take pytest-django's `settings`
fixture: it needs configured settings (and skips without them), which is all they need.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django import forms
from django.template import Context, Template
from django.utils import timezone, translation

import options
from core.fields import WarekiDateField, WarekiMonthField
from core.wareki import (
    FORMAT_MESSAGE,
    WarekiDate,
    WarekiError,
    format_date,
    parse_amendment_heading,
    parse_date,
    parse_month,
    to_wareki,
)

REGULATION = Path(options.__file__).parent / "data" / "regulation_r080201.txt"


@pytest.mark.parametrize(
    ("d", "wareki"),
    [
        (date(1873, 1, 1), "明治6年1月1日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(2026, 2, 1), "令和8年2月1日"),
    ],
)
def test_boundaries_both_ways(d, wareki):
    assert to_wareki(d) == wareki
    assert parse_date(wareki) == d


def test_wareki_date_value():
    assert WarekiDate.from_date(date(2019, 5, 1)) == WarekiDate("令和", 1, 5, 1)
    assert str(WarekiDate("令和", 1, 5, 1)) == "令和元年5月1日"
    assert WarekiDate("平成", 26, 3, 1).to_date() == date(2014, 3, 1)


def test_format_date():
    assert format_date(date(2026, 2, 1)) == "令和8年2月1日 (2026-02-01)"
    assert format_date(date(2026, 2, 1), western=False) == "令和8年2月1日"


def test_to_wareki_refuses_datetimes_and_dates_before_1873():
    with pytest.raises(TypeError):
        to_wareki(datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(WarekiError, match="^1872-12-31は対応している最も古い日付（明治6年1月1日）より前です。$"):
        to_wareki(date(1872, 12, 31))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和8年2月1日", date(2026, 2, 1)),
        ("令和 8 年 2 月 1 日", date(2026, 2, 1)),
        (" 令和8 年2月 1日 ", date(2026, 2, 1)),
        ("令和\u30008年\u30002月1日", date(2026, 2, 1)),
        ("令和８年２月１日", date(2026, 2, 1)),
        ("令和08年02月01日", date(2026, 2, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("R8.2.1", date(2026, 2, 1)),
        ("r8.2.1", date(2026, 2, 1)),
        ("R8/2/1", date(2026, 2, 1)),
        ("R08.02.01", date(2026, 2, 1)),
        ("Ｒ８．２．１", date(2026, 2, 1)),
        ("H26.3.1", date(2014, 3, 1)),
        ("h26/3/1", date(2014, 3, 1)),
        ("S64.1.7", date(1989, 1, 7)),
        ("T1.7.30", date(1912, 7, 30)),
        ("M45.7.29", date(1912, 7, 29)),
        ("2026-02-01", date(2026, 2, 1)),
        ("2026/2/1", date(2026, 2, 1)),
        ("2026年2月1日", date(2026, 2, 1)),
        ("２０２６－０２－０１", date(2026, 2, 1)),
    ],
)
def test_accepted_formats(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("平成32年1月1日", "平成32年は存在しません（平成は31年4月30日まで）。"),
        ("H32.1.1", "平成32年は存在しません（平成は31年4月30日まで）。"),
        ("昭和65年1月1日", "昭和65年は存在しません（昭和は64年1月7日まで）。"),
        ("令和0年1月1日", "令和0年は存在しません。"),
        ("令和元年4月1日", "令和元年4月1日は令和の開始日（令和元年5月1日）より前です。"),
        ("平成元年1月7日", "平成元年1月7日は平成の開始日（平成元年1月8日）より前です。"),
        ("平成31年5月1日", "平成31年5月1日は平成の終了日（平成31年4月30日）より後です。"),
        ("昭和64年1月8日", "昭和64年1月8日は昭和の終了日（昭和64年1月7日）より後です。"),
        ("令和8年2月30日", "存在しない日付です（令和8年2月30日）。"),
        ("令和8年13月1日", "存在しない日付です（令和8年13月1日）。"),
        ("2026-02-30", "存在しない日付です（2026-02-30）。"),
        ("明治5年12月31日", "明治5年12月31日は対応している最も古い日付（明治6年1月1日）より前です。"),
        ("1872-12-31", "1872-12-31は対応している最も古い日付（明治6年1月1日）より前です。"),
        ("2026年2月", FORMAT_MESSAGE),
        ("R8.2/1", FORMAT_MESSAGE),
        ("X8.2.1", FORMAT_MESSAGE),
        ("来月1日", FORMAT_MESSAGE),
        ("", "日付を入力してください。"),
        ("　 ", "日付を入力してください。"),
    ],
)
def test_rejections(text, message):
    with pytest.raises(WarekiError) as caught:
        parse_date(text)
    assert caught.value.message == message
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_format_message_text():
    assert FORMAT_MESSAGE == "日付の形式が正しくありません。例: 令和8年2月1日、R8.2.1、2026-02-01"


def test_round_trip_every_day_1989_to_2030():
    d, last = date(1989, 1, 1), date(2030, 12, 31)
    while d <= last:
        assert parse_date(to_wareki(d)) == d, d
        d += timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("平成 26 年 3 月 1 日変更", date(2014, 3, 1)),
        ("令和 8 年 2 月 1 日現在", date(2026, 2, 1)),
        ("令和8年2月1日", date(2026, 2, 1)),
    ],
)
def test_amendment_heading(text, expected):
    assert parse_amendment_heading(text) == expected


def test_amendment_heading_refuses_impossible_dates():
    with pytest.raises(WarekiError, match="^平成32年は存在しません"):
        parse_amendment_heading("平成 32 年 3 月 1 日変更")
    with pytest.raises(WarekiError, match=f"^{re.escape(FORMAT_MESSAGE)}$"):
        parse_amendment_heading("附則")


def test_every_amendment_heading_of_the_regulation():
    lines = REGULATION.read_text(encoding="utf-8").splitlines()
    headings = [line for line in lines if re.match(r"^(平成|令和) .* 日変更$", line)]
    dates = [parse_amendment_heading(line) for line in headings]
    assert len(dates) == 39
    assert dates[0] == date(2004, 8, 1)
    assert date(2014, 3, 1) in dates
    assert dates[-1] == date(2026, 2, 1)
    assert dates == sorted(set(dates))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和8年2月", date(2026, 2, 1)),
        ("令和 8 年 2 月", date(2026, 2, 1)),
        ("令和元年5月", date(2019, 5, 1)),
        ("R8.2", date(2026, 2, 1)),
        ("r08/02", date(2026, 2, 1)),
        ("2026-02", date(2026, 2, 1)),
        ("2026/2", date(2026, 2, 1)),
        ("2026年2月", date(2026, 2, 1)),
        ("平成元年1月", date(1989, 1, 1)),
        ("昭和64年1月", date(1989, 1, 1)),
    ],
)
def test_month_formats(text, expected):
    assert parse_month(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("令和元年4月", "令和元年4月は令和の開始月（令和元年5月）より前です。"),
        ("平成31年5月", "平成31年5月は平成の終了月（平成31年4月）より後です。"),
        ("平成32年1月", "平成32年は存在しません（平成は31年4月30日まで）。"),
        ("令和8年13月", "存在しない月です（令和8年13月）。"),
        ("2026-13", "存在しない月です（2026-13）。"),
        ("1872-12", "1872-12は対応している最も古い月（明治6年1月）より前です。"),
        ("令和8年2月1日", "年月の形式が正しくありません。例: 令和8年2月、R8.2、2026-02"),
        ("", "年月を入力してください。"),
    ],
)
def test_month_rejections(text, message):
    with pytest.raises(WarekiError) as caught:
        parse_month(text)
    assert caught.value.message == message


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_filters_render_dates(settings):
    d = date(2026, 2, 1)
    assert render("{{ d|wareki }}", d=d) == "令和8年2月1日 (2026-02-01)"
    assert render("{{ d|wareki_only }}", d=d) == "令和8年2月1日"
    assert render("{{ d|wareki }}", d=date(2019, 5, 1)) == "令和元年5月1日 (2019-05-01)"
    assert render("[{{ d|wareki }}][{{ d|wareki_only }}][{{ d|wareki_datetime }}]", d=None) == "[][][]"
    assert render("[{{ missing|wareki }}]") == "[]"


def test_filters_convert_aware_datetimes_to_jst(settings):
    instant = datetime(2026, 1, 31, 15, 30, tzinfo=UTC)  # 2026-02-01 00:30 JST
    with timezone.override("UTC"):
        assert render("{{ t|wareki }}", t=instant) == "令和8年2月1日 (2026-02-01)"
        assert render("{{ t|wareki_only }}", t=instant) == "令和8年2月1日"
        assert render("{{ t|wareki_datetime }}", t=instant) == "令和8年2月1日 (2026-02-01) 00:30"
    morning = datetime(2026, 2, 1, 0, 30, tzinfo=UTC)
    assert render("{{ t|wareki_datetime }}", t=morning) == "令和8年2月1日 (2026-02-01) 09:30"


def test_yen_filter(settings):
    assert render("{{ n|yen }}", n=3000) == "3,000円"
    assert render("{{ n|yen }}", n=-3000) == "-3,000円"
    assert render("{{ n|yen }}", n=0) == "0円"
    assert render("{{ n|yen }}", n=1234567) == "1,234,567円"
    assert render("{{ n|yen }}", n=Decimal("550")) == "550円"
    assert render("[{{ n|yen }}]", n=None) == "[]"


class DateForm(forms.Form):
    start = WarekiDateField()
    month = WarekiMonthField(required=False)


@pytest.mark.parametrize("text", ["令和8年2月1日", "R8.2.1", "2026-02-01", "令和 ８ 年 ２ 月 １ 日"])
def test_date_field_accepts(settings, text):
    form = DateForm(data={"start": text})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"start": date(2026, 2, 1), "month": None}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("平成32年1月1日", "平成32年は存在しません（平成は31年4月30日まで）。"),
        ("令和元年4月1日", "令和元年4月1日は令和の開始日（令和元年5月1日）より前です。"),
        ("令和8年2月30日", "存在しない日付です（令和8年2月30日）。"),
        ("2月1日", FORMAT_MESSAGE),
    ],
)
def test_date_field_reports_wareki_errors(settings, text, message):
    form = DateForm(data={"start": text})
    assert not form.is_valid()
    assert form.errors["start"] == [message]


def test_date_field_required_message_is_japanese(settings):
    with translation.override("ja"):
        form = DateForm(data={"start": "  "})
        assert not form.is_valid()
        assert form.errors["start"] == ["このフィールドは必須です。"]


def test_date_field_widget(settings):
    form = DateForm(initial={"start": date(2026, 2, 1), "month": date(2026, 2, 1)})
    start = str(form["start"])
    assert 'type="text"' in start
    assert 'value="令和8年2月1日 (2026-02-01)"' in start  # as every date reads; read back as shown
    assert 'placeholder="令和8年2月1日 または 2026-02-01"' in start
    assert 'value="2026-02"' in str(form["month"])
    assert isinstance(DateForm.base_fields["start"].widget, forms.TextInput)
    assert not DateForm(data={"start": "R8.2.1"}, initial={"start": date(2026, 2, 1)}).has_changed()
    assert DateForm(data={"start": "令和8年2月1日 (2026-02-01)", "month": "令和8年2月 (2026-02)"}).is_valid()


def test_bound_invalid_input_is_shown_back(settings):
    form = DateForm(data={"start": "令和8年2月30日"})
    assert 'value="令和8年2月30日"' in str(form["start"])


@pytest.mark.parametrize("text", ["令和8年2月", "R8.2", "2026-02", "2026/2"])
def test_month_field_accepts(settings, text):
    form = DateForm(data={"start": "2026-02-01", "month": text})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["month"] == date(2026, 2, 1)


def test_month_field_rejects(settings):
    form = DateForm(data={"start": "2026-02-01", "month": "令和元年4月"})
    assert not form.is_valid()
    assert form.errors["month"] == ["令和元年4月は令和の開始月（令和元年5月）より前です。"]
