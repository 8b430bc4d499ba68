"""Export a list as XLSX or PDF, streaming rows so memory stays flat; sources register their own rows."""
from __future__ import annotations

import datetime as dt
import os
import queue
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
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
_sources: dict[str, Builder] = {}


def register_source(name: str, builder: Builder) -> None:
    """Make a list exportable as /exportar/<name>/<fmt>; the builder checks the user's permission."""
    _sources[name] = builder


def get_source(name: str) -> Builder | None:
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


PDF_SAMPLES = {"datetime": "00/00/0000 00:00", "date": "00/00/0000", "int": "00000", "number": "000.000,00"}


def _pdf_widths(pdf: Any, columns: Sequence[ExportColumn], font_size: float) -> list[float]:
    """Dates, numbers and columns with a sample get the width of their content (and header); the text columns
    share the rest of the page in proportion to their widths."""
    def measure(text: str, style: str = "") -> float:
        pdf.set_font(FONT, style, font_size)
        return text_width(pdf, text) + 2.5

    fixed: list[float | None] = []
    for column in columns:
        sample = PDF_SAMPLES.get(column.kind) or column.sample
        fixed.append(max(measure(sample), measure(column.header, "B")) if sample else None)
    free = max(pdf.epw - sum(width for width in fixed if width), pdf.epw * 0.3)
    weights = sum(max(c.width, 1) for c, width in zip(columns, fixed) if width is None) or 1
    widths = [width if width is not None else free * max(column.width, 1) / weights
              for column, width in zip(columns, fixed)]
    scale = min(1.0, pdf.epw / sum(widths))
    pdf.set_font(FONT, "", font_size)
    return [width * scale for width in widths]


def write_pdf(target: Target, title: str, subtitle: str, columns: Sequence[ExportColumn],
              rows: Iterable[Row]) -> int:
    """Draw the rows as a landscape A4 table, header repeated on each page. Return the number of rows."""
    from fpdf import FPDF

    font_size, line = 7, 4.6
    printed_at = _("Emitido em %(when)s", when=format_date(now()))
    subtitle_text = " ".join(_clean(subtitle or "").split())

    class TablePDF(FPDF):
        def header(self) -> None:
            self.set_font(FONT, "B", 11)
            self.cell(0, 6, fit(self, _clean(title), self.epw), new_x="LMARGIN", new_y="NEXT")
            if subtitle_text:
                self.set_font(FONT, "", 8)
                self.set_text_color(90, 90, 90)
                lines = self.multi_cell(0, 4, subtitle_text, dry_run=True, output="LINES")
                self.multi_cell(0, 4, "\n".join(lines[:2]), new_x="LMARGIN", new_y="NEXT")
                self.set_text_color(0, 0, 0)
            self.ln(1)
            self.set_font(FONT, "B", font_size)
            self.set_fill_color(230, 230, 230)
            self.rect(self.l_margin, self.get_y(), self.epw, line + 0.6, style="F")
            self.set_fill_color(0, 0, 0)  # text() wraps every string in a colour change unless fill == text colour
            draw_row(self, [c.header for c in columns], header=True)
            self.set_font(FONT, "", font_size)

        def footer(self) -> None:
            self.set_y(-10)
            self.set_font(FONT, "", 7)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, printed_at, align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, _("Página %(page)d de %(total)s", page=self.page_no(), total=PAGES_ALIAS), align="R")
            self.set_text_color(0, 0, 0)

    pdf = TablePDF(orientation="landscape", unit="mm", format="A4")
    pdf.alias_nb_pages(PAGES_ALIAS)
    pdf.set_title(_clean(title))
    pdf.set_author("Atende")
    pdf.set_creator("Atende")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(False)
    pdf.add_font(FONT, "", os.path.join(FONT_DIR, "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf"))
    pdf.set_draw_color(210, 210, 210)
    pdf.set_line_width(0.1)
    widths = _pdf_widths(pdf, columns, font_size)
    right = [c.kind in ("int", "number") for c in columns]
    bottom = pdf.h - 14

    def draw_row(doc: FPDF, texts: Sequence[str], header: bool = False) -> None:
        x, y = doc.l_margin, doc.get_y()
        for text, width, align_right in zip(texts, widths, right):
            text = fit(doc, text, width - 2)
            if text:
                offset = width - 1 - text_width(doc, text) if align_right else 1
                doc.text(x + offset, y + line - 1.3, text)
            x += width
        y += line + (0.6 if header else 0)
        doc.line(doc.l_margin, y, doc.l_margin + doc.epw, y)
        doc.set_y(y)

    pdf.add_page()
    count = 0
    for count, values in enumerate(rows, start=1):
        if pdf.get_y() + line > bottom:
            pdf.add_page()
        draw_row(pdf, [_pdf_text(c.kind, v) for c, v in zip(columns, values)])
    if pdf.get_y() + 2 * line > bottom:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, "B", 8)
    total = ngettext("Total: %(count)s registro", "Total: %(count)s registros", count,
                     count=f"{count:,}".replace(",", "."))
    pdf.cell(0, 5, total, new_x="LMARGIN", new_y="NEXT")
    content = pdf.output()
    if hasattr(target, "write"):
        target.write(content)
    else:
        with open(target, "wb") as handle:
            handle.write(content)
    return count


def fit(pdf: Any, text: str, width: float) -> str:
    """Cut the text with an ellipsis so it fits the width at the current font (no shaping: fast)."""
    widths = pdf.current_font.cw
    limit = width / (pdf.font_size * 0.001)
    room = limit - widths[0x2026]
    total, cut = 0.0, 0
    for index, char in enumerate(text):
        total += widths[ord(char)]
        if total > limit:
            return text[:cut].rstrip() + "…"
        if total <= room:
            cut = index + 1
    return text


def text_width(pdf: Any, text: str) -> float:
    widths = pdf.current_font.cw
    return sum(widths[ord(char)] for char in text) * pdf.font_size * 0.001
