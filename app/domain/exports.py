"""Export a list as XLSX or PDF, streaming rows so memory stays flat; sources register their own rows."""
from __future__ import annotations

import datetime as dt
import os
import queue
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, islice
from typing import IO, Any, Callable, Iterable, Iterator, Sequence, Union

from babel.numbers import format_decimal
from flask_babel import gettext as _, ngettext

from app.domain.clock import now
from app.domain.errors import ValidationError
from app.formatting import format_date

KINDS = ("text", "datetime", "date", "int", "number")
FORMATS = ("xlsx", "pdf")
MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
XLSX_MAX_ROWS = 1_048_575  # Excel's limit, the header row excluded
FONT_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fonts")
FONT = "DejaVu"
PAGES_ALIAS = "{nbp}"  # room for 5 digits ("{nb}" leaves 3)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_PT_BR_DIGITS = str.maketrans(",.", ".,")

Target = Union[str, "os.PathLike[str]", IO[bytes]]
Row = Sequence[Any]


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: pt-BR header, kind of value and width in characters."""

    header: str
    kind: str = "text"
    width: int = 15
    sample: str = ""  # the widest usual value of a fixed-width text column (a protocol), for the PDF

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class ExportData:
    """What a source gives to export: rows should be lazy (a generator over a streamed query)."""

    title: str
    subtitle: str
    columns: Sequence[ExportColumn]
    rows: Iterable[Row]
    count: Union[int, Callable[[], int]]
    filename_stem: str

    def total(self) -> int:
        """Count the rows once (the callable may run a count(*) query)."""
        if callable(self.count):
            self.count = int(self.count())
        return int(self.count)


Builder = Callable[[Any, Any, dict[str, list[str]]], ExportData]
BUILTIN_SOURCES = ("app.domain.ticket_exports", "app.domain.service_order_exports")
_sources: dict[str, Builder] = {}


def register_source(name: str, builder: Builder) -> None:
    """Make a list exportable as /exportar/<name>/<fmt>; the builder checks the user's permission."""
    _sources[name] = builder


def get_source(name: str) -> Builder | None:
    """The source registered under this name; the application's own lists register themselves on first use."""
    if name not in _sources:
        import importlib

        for module in BUILTIN_SOURCES:
            importlib.import_module(module)
    return _sources.get(name)


def download_name(data: ExportData, fmt: str, when: dt.datetime | None = None) -> str:
    """E.g. atendimentos-20261127-1430.xlsx."""
    return f"{data.filename_stem}-{(when or now()):%Y%m%d-%H%M}.{fmt}"


def write(fmt: str, target: Target, data: ExportData) -> int:
    """Write the data in the given format; return the number of rows."""
    rows = prefetched(data.rows)
    if fmt == "xlsx":
        return write_xlsx(target, data.title, data.columns, rows)
    return write_pdf(target, data.title, data.subtitle, data.columns, rows)


def prefetched(rows: Iterable[Row], batch: int = 2000, depth: int = 4) -> Iterator[Row]:
    """Read the rows in a helper thread while the caller writes them (the database wait releases the GIL).

    The source's generator must use a plain Session (see ``plain_session``), touched by no other thread
    until the rows are exhausted.
    """
    from contextlib import nullcontext

    from flask import current_app, has_app_context

    chunks: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    app = current_app._get_current_object() if has_app_context() else None

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with app.app_context() if app is not None else nullcontext():
                read()
        except BaseException as error:  # handed to the consumer
            put(error)

    def read() -> None:
        chunk: list = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= batch:
                if not put(chunk):
                    return
                chunk = []
        put(chunk)
        put(None)

    thread = threading.Thread(target=produce, name="export-rows", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        thread.join()


def plain_session(session: Any) -> Any:
    """The Session behind a scoped_session proxy, usable from the prefetch thread."""
    from sqlalchemy.orm import scoped_session

    return session() if isinstance(session, scoped_session) else session


def _clean(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if text.isprintable() else _CONTROL.sub("", text)


# ---------------------------------------------------------------- XLSX


def _sheet_name(title: str) -> str:
    return (_SHEET_FORBIDDEN.sub(" ", _clean(title)).strip("' ") or "Planilha")[:31]


def write_xlsx(target: Target, title: str, columns: Sequence[ExportColumn], rows: Iterable[Row]) -> int:
    """Stream the rows to one worksheet; strings are never formulas (R15). Return the number of rows."""
    import xlsxwriter

    target = os.fspath(target) if isinstance(target, os.PathLike) else target
    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "remove_timezone": True, "nan_inf_to_errors": True,
    })
    count = 0
    try:
        workbook.set_properties({"title": _clean(title), "author": "Atende", "comments": "Atende"})
        sheet = workbook.add_worksheet(_sheet_name(title))
        header = workbook.add_format({"bold": True, "bg_color": "#E6E6E6", "bottom": 1})
        formats = {
            "datetime": workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
            "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
            "int": workbook.add_format({"num_format": "0"}),
            "number": workbook.add_format({"num_format": "#,##0.00"}),
        }
        for col, column in enumerate(columns):
            sheet.set_column(col, col, column.width)
            sheet.write_string(0, col, _clean(column.header), header)
        sheet.freeze_panes(1, 0)
        kinds = [column.kind for column in columns]
        write_string = sheet.write_string
        for count, values in enumerate(rows, start=1):
            if count > XLSX_MAX_ROWS:
                raise ValidationError(_(
                    "O Excel aceita no máximo %(max)s linhas: filtre um período menor ou exporte em PDF.",
                    max=format_decimal(XLSX_MAX_ROWS, locale="pt_BR"),
                ))
            for col, value in enumerate(values):
                if value is None or value == "":
                    continue
                if kinds[col] == "text" or isinstance(value, str):
                    write_string(count, col, _clean(value))
                else:
                    _write_cell(sheet, count, col, kinds[col], value, formats)
        sheet.autofilter(0, 0, count, max(len(columns) - 1, 0))
    finally:
        workbook.close()
    return count


def _write_cell(sheet: Any, row: int, col: int, kind: str, value: Any, formats: dict[str, Any]) -> None:
    if value is None or value == "":
        return
    if kind in ("datetime", "date") and isinstance(value, dt.date):
        if kind == "date" and isinstance(value, dt.datetime):
            value = value.date()
        sheet.write_datetime(row, col, value, formats[kind])
    elif kind in ("int", "number") and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, formats[kind])
    else:
        sheet.write_string(row, col, _clean(value))


# ---------------------------------------------------------------- PDF


def _pdf_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return format_date(value.date() if kind == "date" and isinstance(value, dt.datetime) else value)
    if kind == "number" and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return f"{value:,.2f}".translate(_PT_BR_DIGITS)
    return " ".join(_clean(value).split())


LAYOUT_ROWS = 200
PDF_FONT_SIZES = (7, 6.5, 6, 5.5, 5)
PDF_SAMPLES = {"datetime": "00/00/0000 00:00", "date": "00/00/0000", "int": "00000", "number": "000.000,00"}


def _pdf_layout(pdf: Any, columns: Sequence[ExportColumn], head: Sequence[Row]) -> tuple[float, list[float]]:
    """The font size and the column widths: 7 pt, or smaller (down to 5 pt) while the columns do not fit the page."""
    for font_size in PDF_FONT_SIZES:
        widths, fits = _pdf_widths(pdf, columns, font_size, head)
        if fits:
            break
    return font_size, widths


def _pdf_widths(pdf: Any, columns: Sequence[ExportColumn], font_size: float,
                head: Sequence[Row] = ()) -> tuple[list[float], bool]:
    """Dates, numbers and columns with a sample get the width of their content (and header); the text columns share
    the rest in proportion to the mean length of their text in the first rows, so a typical row's cells need about
    as many lines each, none narrower than its longest word (nor a short text) nor wider than its longest text.
    Also tell whether every column fits the page at that width."""
    pdf.set_font(FONT, "B", font_size)
    bold, bold_scale = pdf.current_font.cw, pdf.font_size * 0.001
    pdf.set_font(FONT, "", font_size)
    regular, regular_scale = pdf.current_font.cw, pdf.font_size * 0.001

    def measure(text: str, style: str = "") -> float:
        widths, scale = (bold, bold_scale) if style else (regular, regular_scale)
        return sum(map(widths.__getitem__, map(ord, text))) * scale + 2.5

    fixed: list[float | None] = []
    for column in columns:
        sample = PDF_SAMPLES.get(column.kind) or column.sample
        fixed.append(max(measure(sample), measure(column.header, "B")) if sample else None)
    free = max(pdf.epw - sum(width for width in fixed if width), pdf.epw * 0.3)
    flexible = [index for index, width in enumerate(fixed) if width is None]
    weights = sum(max(columns[index].width, 1) for index in flexible) or 1
    least, most, typical, slack = {}, {}, {}, {}
    for index in flexible:
        column = columns[index]
        lengths = [measure(_pdf_text(column.kind, row[index])) for row in head]
        words = [measure(word) for row in head for word in _pdf_text(column.kind, row[index]).split()]
        header = max(measure(word, "B") for word in column.header.split() or [""])
        most[index] = max([measure(column.header, "B"), *lengths]) if head else free
        least[index] = min(max([header, *words, min(most[index], font_size * 2.6)]), max(header, free * 0.3))
        typical[index] = sum(lengths) / len(lengths) if head else free * max(column.width, 1) / weights
        slack[index] = sum(words) / len(words) if words else 0.0  # a wrapped line leaves about a word unused

    def sized(lines: float) -> dict[int, float]:
        return {index: min(most[index], max(least[index], typical[index] / lines + slack[index]))
                for index in flexible}

    if sum(most.values()) <= free:
        chosen = {index: most[index] * free / sum(most.values()) for index in flexible}
    elif sum(least.values()) >= free:
        chosen = least
    else:
        low, high = 1e-3, 1e4  # the lines of a typical row: bisect until the text columns fill the room
        for _ in range(60):
            middle = (low * high) ** 0.5
            low, high = (middle, high) if sum(sized(middle).values()) > free else (low, middle)
        chosen = sized(high)
    widths = [chosen[index] if width is None else width for index, width in enumerate(fixed)]
    settled = sum(width or 0 for width in fixed)
    fits = settled + sum(least.values()) <= pdf.epw
    if sum(widths) > pdf.epw:  # too many columns: the text columns give way first, dates and protocols stay whole
        if flexible and settled < pdf.epw * 0.7:
            scale = (pdf.epw - settled) / sum(chosen.values())
            widths = [width if width is not None else chosen[index] * scale for index, width in enumerate(fixed)]
        else:
            widths = [width * pdf.epw / sum(widths) for width in widths]
    pdf.set_font(FONT, "", font_size)
    return widths, fits


def write_pdf(target: Target, title: str, subtitle: str, columns: Sequence[ExportColumn],
              rows: Iterable[Row]) -> int:
    """Draw the rows as a landscape A4 table whose cells wrap, header repeated on each page. Return the row count."""
    from fpdf import FPDF

    pad = 1.0  # cell padding (mm)
    printed_at = _("Emitido em %(when)s", when=format_date(now()))
    title_text = " ".join(_clean(title or "").split())
    subtitle_text = " ".join(_clean(subtitle or "").split())

    class TablePDF(FPDF):
        def header(self) -> None:
            y = self.t_margin
            self.set_font(FONT, "B", 11)
            for line in title_lines:
                self.text(self.l_margin + pad, y + 4.4, line)
                y += 6
            self.set_font(FONT, "", 8)
            self.set_text_color(90, 90, 90)
            for line in subtitle_lines:
                self.text(self.l_margin + pad, y + 3, line)
                y += 4
            self.set_text_color(0, 0, 0)
            self.set_y(y + 1)
            self.set_font(FONT, "B", font_size)
            self.set_fill_color(230, 230, 230)
            self.rect(self.l_margin, self.get_y(), self.epw, row_height(header_lines) + 0.6, style="F")
            self.set_fill_color(0, 0, 0)  # text() wraps every string in a colour change unless fill == text colour
            draw_lines(self, headers, 0, header_lines, extra=0.6)
            self.set_font(FONT, "", font_size)

        def footer(self) -> None:
            self.set_y(-10)
            self.set_font(FONT, "", 7)
            self.set_text_color(90, 90, 90)
            self.text(self.l_margin + pad, self.h - 6.3, printed_at)
            self.cell(0, 5, _("Página %(page)d de %(total)s", page=self.page_no(), total=PAGES_ALIAS), align="R")
            self.set_text_color(0, 0, 0)

    pdf = TablePDF(orientation="landscape", unit="mm", format="A4")
    pdf.alias_nb_pages(PAGES_ALIAS)
    pdf.set_title(title_text)
    pdf.set_author("Atende")
    pdf.set_creator("Atende")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(False)
    pdf.add_font(FONT, "", os.path.join(FONT_DIR, "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf"))
    pdf.set_draw_color(210, 210, 210)
    pdf.set_line_width(0.1)
    rows = iter(rows)
    head = list(islice(rows, LAYOUT_ROWS))  # the first rows size the columns; the others are never kept
    font_size, widths = _pdf_layout(pdf, columns, head)
    first, pitch, rise = font_size * 0.66, font_size * 0.46, font_size * 0.19  # line heights and baseline (mm)
    room = [width - 2 * pad for width in widths]
    right = [c.kind in ("int", "number") for c in columns]
    kinds = [c.kind for c in columns]
    bottom = pdf.h - 14
    pdf.set_font(FONT, "B", 11)
    title_lines = wrap(pdf, title_text, pdf.epw - 2 * pad)
    pdf.set_font(FONT, "", 8)
    subtitle_lines = wrap(pdf, subtitle_text, pdf.epw - 2 * pad)
    pdf.set_font(FONT, "B", font_size)
    headers = [wrap(pdf, " ".join(_clean(c.header).split()), width) for c, width in zip(columns, room)]
    header_lines = max(map(len, headers), default=1) or 1
    pdf.set_font(FONT, "", font_size)

    def row_height(lines: int) -> float:
        return first + pitch * (max(lines, 1) - 1)

    def draw_lines(doc: FPDF, cells: Sequence[Sequence[str]], start: int, stop: int, extra: float = 0.0) -> None:
        """Draw lines start..stop-1 of every cell from the current y, then the row's bottom rule."""
        x, y = doc.l_margin, doc.get_y()
        widths_of = doc.current_font.cw
        scale = doc.font_size * 0.001
        for lines, width, align_right in zip(cells, widths, right):
            baseline = y + first - rise
            for text in lines[start:stop]:
                if align_right:
                    doc.text(x + width - pad - sum(map(widths_of.__getitem__, map(ord, text))) * scale, baseline, text)
                else:
                    doc.text(x + pad, baseline, text)
                baseline += pitch
            x += width
        y += row_height(stop - start) + extra
        doc.line(doc.l_margin, y, doc.l_margin + doc.epw, y)
        doc.set_y(y)

    def fitting(doc: FPDF) -> int:
        """How many lines of a row still fit on this page."""
        space = bottom - doc.get_y() - first
        return 0 if space < 0 else 1 + int(space // pitch)

    pdf.add_page()
    page_top = pdf.get_y()
    capacity = max(fitting(pdf), 1)
    count = 0
    known: dict[tuple[int, str], list[str]] = {}  # statuses, subjects, names… repeat: wrap each once

    def lines_of(index: int, text: str) -> list[str]:
        lines = known.get((index, text))
        if lines is None:
            lines = wrap(pdf, text, room[index])
            if len(text) <= 200:
                if len(known) >= 20_000:
                    known.clear()
                known[index, text] = lines
        return lines

    for count, values in enumerate(chain(head, rows), start=1):
        cells = [lines_of(index, _pdf_text(kind, value)) for index, (kind, value) in enumerate(zip(kinds, values))]
        total, start = max(map(len, cells)) or 1, 0
        while total - start > fitting(pdf):
            if pdf.get_y() > page_top and total - start <= capacity:
                pdf.add_page()  # the row moves whole to the next page
                continue
            fits = max(fitting(pdf), 1)  # a row taller than a page goes on over the next pages
            draw_lines(pdf, cells, start, start + fits)
            start += fits
            pdf.add_page()
        draw_lines(pdf, cells, start, total)
    if pdf.get_y() + 2 * first > bottom:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, "B", 8)
    total_text = ngettext("Total: %(count)s registro", "Total: %(count)s registros", count,
                          count=f"{count:,}".replace(",", "."))
    pdf.cell(0, 5, total_text, new_x="LMARGIN", new_y="NEXT")
    content = pdf.output()
    if hasattr(target, "write"):
        target.write(content)
    else:
        with open(target, "wb") as handle:
            handle.write(content)
    return count


def wrap(pdf: Any, text: str, width: float) -> list[str]:
    """Break one-line text into lines that fit the width at the current font, at spaces where possible (no shaping:
    fast); a word wider than the width is split between characters, so no text is ever cut."""
    if not text:
        return []
    widths = pdf.current_font.cw
    limit = width / (pdf.font_size * 0.001)
    if sum(map(widths.__getitem__, map(ord, text))) <= limit:
        return [text]
    space = widths[32]
    lines: list[str] = []
    line, used = "", 0.0
    for word in text.split(" "):
        size = sum(map(widths.__getitem__, map(ord, word)))
        if line and used + space + size <= limit:
            line, used = f"{line} {word}", used + space + size
            continue
        if line:
            lines.append(line)
        line, used = word, size
        if size > limit:
            line, used = "", 0.0
            for char in word:
                step = widths[ord(char)]
                if line and used + step > limit:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = line + char, used + step
    if line:
        lines.append(line)
    return lines


def text_width(pdf: Any, text: str) -> float:
    return sum(map(pdf.current_font.cw.__getitem__, map(ord, text))) * pdf.font_size * 0.001
