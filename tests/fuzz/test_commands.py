"""Every management command of the project on hostile arguments and hostile files (issue 9): a clear answer and
nothing written, never a traceback.

The commands are discovered from Django's registry: a new command of the project without a hostile strategy
below fails `test_every_project_command_is_fuzzed`. Each example calls the command through `call_command` (no
subprocess) and asserts that it is refused — a CommandError (exit code 1) or a SystemExit with a non-zero code,
with a message — and that no row of any model changed (history tables, the ledger and the month close
included). Every input drawn is hostile by construction (a cell that no column accepts, a month outside the
bounds, an output that is not a file), so a success is a failure of the test.

FUZZ_EXAMPLES (default 20) bounds the examples per command; the run is derandomized unless FUZZ_SEED is set.
"""

import io
import os
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command, get_commands
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from contracts.services.migration_import import COLUMN_NAMES
from core.limits import date_out_of_bounds
from core.wareki import WarekiError, parse_month

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"contracts", "options", "security", "accounting", "exports"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
FUZZ_SEED = os.environ.get("FUZZ_SEED")

# ---- hostile pieces -------------------------------------------------------------------------------------------

NASTY = [
    "\x00",
    "a\x00b",
    "\u202eevil",
    "\ufeff",
    "\u200b",
    "😀",
    "'; DROP TABLE contracts_ledgerentry; --",
    '"',
    "9" * 5000,
    str(2**31),
    str(10**30),
    "-1",
    " ",
    "\t",
    "\r",
    "\n",
    "ｱｲｳ",
    "令和99年99月",
]
_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
# An argument argparse would read as -h/--help prints the help and exits 0: not hostile, left out.
argument = _text.filter(lambda a: not (a.startswith("-h") or a.startswith("--h")))


def _is_valid_month(text: str) -> bool:
    try:
        return not date_out_of_bounds(parse_month(text))
    except WarekiError:
        return False


hostile_month = st.one_of(
    st.sampled_from(["9999-12", "0001-01", "2026-13", "2026-00", "1900-01", "2100-01", "R99.1", "H31.5", "garbage"]),
    argument,
).filter(lambda m: not _is_valid_month(m))

# A cell no column accepts: a control or invisible character, or longer than every column allows.
_poison_char = st.sampled_from(["\x00", "\x1b", "\x7f", "\u202e", "\u2066", "\ufeff", "\u200b", "\u200d"])
poison_cell = st.one_of(
    st.tuples(st.text(max_size=10), _poison_char, st.text(max_size=10)).map("".join),
    st.text(min_size=201, max_size=400).filter(lambda t: len(t.strip()) > 200),
)
GOODISH = ["M0901", "株式会社テスト", "flets-hikari", "type-a", "1", "1200", "2016-01-01", "flets-next-prio1", "CAF01"]
any_cell = st.one_of(st.sampled_from(GOODISH), st.sampled_from(NASTY), st.text(max_size=30), poison_cell)


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\r\n') else cell


@st.composite
def hostile_csv(draw) -> bytes:
    """CSV bytes that must be refused: a poisoned cell in every row, or a header only, or nothing."""
    header = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=len(COLUMN_NAMES)))
    if draw(st.booleans()):
        header = header + [draw(st.sampled_from(header))]  # a duplicate column
    rows = []
    for _ in range(draw(st.integers(0, 3))):
        row = [draw(any_cell) for _ in header]
        row[draw(st.integers(0, len(header) - 1))] = draw(poison_cell)
        rows.append(row)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(",".join(_quote(c) for c in line) for line in [header, *rows]) + newline
    if not draw(st.integers(0, 9)):
        text = draw(st.sampled_from(["", newline, ",".join(header) + newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp932", "euc-jp", "latin-1"]))
    data = text.encode(encoding, errors="replace") if encoding != "utf-8-sig" else text.encode(encoding)
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" * draw(st.integers(1, 2)) + data
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


class Places:
    """The paths a command is pointed at: a file the example writes, a folder, a FIFO, a link, a missing folder."""

    def __init__(self, root: Path):
        self.root = root
        self.csv = root / "fuzz.csv"
        self.folder = root / "folder"
        self.folder.mkdir(exist_ok=True)
        self.fifo = root / "pipe"
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        self.link = root / "link.csv"
        if not self.link.is_symlink():
            self.link.symlink_to(self.folder / "target.csv")

    def path(self, name: str) -> str:
        return {
            "csv": str(self.csv),
            "folder": str(self.folder),
            "fifo": str(self.fifo),
            "link": str(self.link),
            "missing": str(self.root / "missing" / "x.csv"),
            "nul": str(self.root / "a\x00b"),
        }[name]


_bad_output = st.sampled_from(["folder", "fifo", "link", "missing", "nul"])
_any_place = st.sampled_from(["csv", "folder", "fifo", "missing", "nul"])


def _extra() -> st.SearchStrategy[list]:
    """Arguments a command that takes none must refuse (at least one)."""
    return st.lists(argument, min_size=1, max_size=3)


def _with_options(*options: tuple[str, st.SearchStrategy]) -> st.SearchStrategy[list]:
    """Some of the options, each with a drawn value."""
    return st.lists(st.sampled_from(options), unique=True).flatmap(
        lambda chosen: st.tuples(*(st.tuples(st.just(name), value) for name, value in chosen)).map(
            lambda pairs: [item for pair in pairs for item in pair]
        )
    )


# Each command's hostile argv; ("place", name) stands for a path of Places, ("csv", bytes) for the CSV file.
HOSTILE: dict[str, st.SearchStrategy[list]] = {
    "apply_successions": st.tuples(st.sampled_from([[], ["--dry-run"]]), _extra()).map(lambda t: t[0] + t[1]),
    "load_demo": _extra(),
    # Arguments it does not take, or a staff member no account has.
    "report_figures_backfill": st.one_of(
        _extra(), st.tuples(st.just("--user"), argument.filter(lambda a: a != "system")).map(list)
    ),
    # A number of days that is not one (negative, text, empty); the book has no job, so nothing is deleted.
    "prune_exports": st.tuples(
        st.just("--days"), st.one_of(st.sampled_from(["-1", "abc", "", "1e3", "-99999999999"]), argument)
    ).map(list),
    "load_regulation": _extra(),
    "seal_ledger": _extra(),
    # A month that is not closed (none is, here), or not a month; an argument it does not take.
    "verify_ledger": st.one_of(st.tuples(hostile_month).map(lambda t: ["--month", t[0]]), _extra()),
    "db_grant_app_role": st.one_of(
        # A role name no server holds: a NUL, over 63 bytes, or a prefix no role of ours has.
        st.tuples(
            st.just("--role"),
            st.one_of(
                st.sampled_from(["", "a\x00b", "r" * 64, "あ" * 22]),
                argument.map(lambda a: "fuzz_no_such_role_" + a),
            ),
        ).map(list),
        st.tuples(st.just("--role"), argument, st.just("--database"), argument.filter(lambda d: d != "default")).map(
            list
        ),
    ),
    "close_month": st.one_of(
        st.tuples(hostile_month, _with_options(("--user", st.one_of(argument, st.just("system"))))).map(
            lambda t: [t[0], *t[1]]
        ),
        # The preview writes nothing but answers only for a month it can read; a fingerprint not 64 hex digits.
        st.tuples(hostile_month, st.sampled_from([["--preview"], ["--preview", "--progress"]])).map(
            lambda t: [t[0], *t[1]]
        ),
        st.tuples(
            st.sampled_from(["2026-02", "令和8年2月"]),
            st.one_of(argument.filter(lambda a: not re.fullmatch(r"[0-9a-f]{64}", a)), st.just("A" * 64)),
        ).map(lambda t: [t[0], "--fingerprint", t[1]]),
    ),
    "monthly_report": st.one_of(
        st.tuples(hostile_month, st.just([])).map(lambda t: [t[0], "--output", ("place", "csv")]),
        st.tuples(
            st.sampled_from(["2026-02", "令和8年2月"]),
            _bad_output,
            _with_options(("--format", st.sampled_from(["csv", "csv-cp932", "xlsx"])), ("--part", st.just("detail"))),
        ).map(lambda t: [t[0], "--output", ("place", t[1]), *t[2]]),
        # The journals: of a month not closed (none is, here), or with the report's options they do not take.
        st.tuples(
            st.sampled_from(["2026-01", "令和8年2月"]),
            st.sampled_from(["journal-yayoi", "journal-freee", "journal-mf"]),
            st.sampled_from([[], ["--part", "detail"], ["--replacement", "?"]]),
        ).map(lambda t: [t[0], "--format", t[1], *t[2], "--output", ("place", "csv")]),
        st.tuples(hostile_month, st.sampled_from(["--format", "--part", "--replacement"]), argument).map(list),
    ),
    # Every revision of the regulation is in force (no preview), and no hostile text names another.
    "revision_impact": st.one_of(
        st.tuples(argument).map(list),
        st.tuples(
            st.sampled_from(["1", "令和8年2月1日変更", "999999", "0"]),
            _bad_output,
            _with_options(
                ("--format", st.sampled_from(["csv", "xlsx"])), ("--part", st.sampled_from(["contracts", "summary"]))
            ),
        ).map(lambda t: [t[0], "--output", ("place", t[1]), *t[2]]),
        st.tuples(argument, st.sampled_from(["--format", "--part", "--output"]), argument).map(list),
    ),
    "import_contracts": st.one_of(
        st.tuples(hostile_csv(), st.sampled_from([[], ["--dry-run"]])).map(lambda t: [("csv", t[0]), *t[1]]),
        st.tuples(_any_place.filter(lambda p: p != "csv"), st.sampled_from([[], ["--dry-run"]])).map(
            lambda t: [("place", t[0]), *t[1]]
        ),
    ),
}


def project_commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app in PROJECT_APPS)


def _all_rows() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


def _materialise(argv: list, places: Places) -> list[str]:
    args = []
    for item in argv:
        if isinstance(item, tuple) and item[0] == "csv":
            places.csv.write_bytes(item[1])
            args.append(str(places.csv))
        elif isinstance(item, tuple):
            args.append(places.path(item[1]))
        else:
            args.append(item)
    return args


def _files(root: Path) -> dict[str, bytes | None]:
    return {str(p): (p.read_bytes() if p.is_file() and not p.is_symlink() else None) for p in root.rglob("*")}


def test_every_project_command_is_fuzzed():
    assert project_commands() == sorted(HOSTILE), "a command of the project has no hostile strategy in HOSTILE"


_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=FUZZ_SEED is None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _seeded(test):
    return seed(int(FUZZ_SEED))(test) if FUZZ_SEED else test


@pytest.mark.parametrize("command", sorted(HOSTILE))
@_seeded
@_SETTINGS
@given(data=st.data())
def test_a_command_on_hostile_input_answers_clearly_and_writes_nothing(
    regulation, tmp_path, monkeypatch, command, data
):
    places = Places(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = _materialise(data.draw(HOSTILE[command], label="argv"), places)
    rows, files = _all_rows(), _files(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except CommandError as error:
        assert error.returncode != 0
        assert str(error).strip(), "a refusal without a message"
    except SystemExit as exit_:
        assert exit_.code not in (0, None), "a hostile input exited 0"
        assert err.getvalue().strip(), "an exit without a message"
    else:
        pytest.fail(f"{command} {args!r} accepted hostile input: {out.getvalue()[-300:]}")
    assert _all_rows() == rows
    assert _files(tmp_path) == files
