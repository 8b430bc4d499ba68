"""Atende's data model: declarative models only."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder.models.sqla import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.clock import now

PERSON_TYPES = ("PF", "PJ")
CONTRACT_STATUSES = ("active", "suspended", "cancelled")
TICKET_TYPES = ("customer", "site")
DIRECTIONS = ("inbound", "outbound")
STATUS_CATEGORIES = ("new", "pending", "in_progress", "resolved", "cancelled")
OPEN_CATEGORIES = ("new", "pending", "in_progress")
SERVICE_ORDER_STATUSES = ("open", "scheduled", "in_progress", "done", "cancelled")
OPEN_SERVICE_ORDER_STATUSES = ("open", "scheduled", "in_progress")
PHONE_KINDS = ("mobile", "landline", "whatsapp")
# Text limits (characters): a description or message of 10,000 characters is about four printed pages, far beyond any
# real call, and keeps a ticket's print out fast; notes and reasons are shorter by nature.
LONG_TEXT = 10_000
NOTE_TEXT = 4_000


class LimitedText(TypeDecorator):
    """TEXT with a length limit: forms (Length), API schemas (Length), the flush check (app.domain.inputs) and a
    CHECK constraint ``ck_<table>_<column>_length`` all derive from it; the column stays a textarea."""

    impl = Text
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length

    def __repr__(self) -> str:
        return f"LimitedText({self.length})"


@event.listens_for(Column, "after_parent_attach")
def _length_check(column: Column, table: Table) -> None:
    if isinstance(column.type, LimitedText):
        table.append_constraint(CheckConstraint(f"length({column.name}) <= {column.type.length}",
                                                name=f"ck_{table.name}_{column.name}_length"))


class NamedMixin:
    """A configurable option with a name that can be deactivated (R6)."""

    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return self.name


# ---------------------------------------------------------------- configuration


class GeneralParameters(Model):
    """The company's general parameters; one row, edited by an administrator."""

    __tablename__ = "general_parameters"
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    closing_reason_required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reopen_window_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=72)
    default_list_days: Mapped[int] = mapped_column(Integer, nullable=False, default=7)
    # an open ticket whose legal answer deadline (R24) is this close is "vencendo" in lists and dashboards
    legal_warning_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=48, server_default="48")
    attachment_max_mb: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    attachment_extensions: Mapped[str] = mapped_column(
        String(300), nullable=False, default="pdf,png,jpg,jpeg,gif,txt,csv,xlsx,docx,odt,zip"
    )
    portal_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    portal_user: Mapped[Optional[User]] = relationship(User)

    __table_args__ = (
        CheckConstraint("reopen_window_hours IN (0, 24, 48, 72)", name="ck_reopen_window"),
        CheckConstraint("default_list_days > 0", name="ck_default_list_days"),
        CheckConstraint("default_list_days <= 3660", name="ck_default_list_days_max"),
        CheckConstraint("legal_warning_hours BETWEEN 1 AND 168", name="ck_legal_warning_hours"),
    )

    def __repr__(self) -> str:
        return "Parâmetros gerais"


class Department(NamedMixin, Model):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[Optional[str]] = mapped_column(String(200))


class Priority(NamedMixin, Model):
    __tablename__ = "priority"
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    color: Mapped[str] = mapped_column(String(7), nullable=False, default="#6c757d")


class Channel(NamedMixin, Model):
    __tablename__ = "channel"
    id: Mapped[int] = mapped_column(primary_key=True)
    is_portal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ClosingReason(NamedMixin, Model):
    __tablename__ = "closing_reason"
    id: Mapped[int] = mapped_column(primary_key=True)


class TicketStatus(NamedMixin, Model):
    __tablename__ = "ticket_status"
    id: Mapped[int] = mapped_column(primary_key=True)
    color: Mapped[str] = mapped_column(String(7), nullable=False, default="#6c757d")
    order: Mapped[int] = mapped_column("sort_order", Integer, nullable=False, default=0)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    __table_args__ = (
        CheckConstraint(
            "category IN ('new', 'pending', 'in_progress', 'resolved', 'cancelled')",
            name="ck_ticket_status_category",
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.category in OPEN_CATEGORIES


class SubStatus(NamedMixin, Model):
    __tablename__ = "sub_status"
    id: Mapped[int] = mapped_column(primary_key=True)


class Subject(NamedMixin, Model):
    __tablename__ = "subject"
    id: Mapped[int] = mapped_column(primary_key=True)
    sla_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=24)
    default_department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"))
    default_department: Mapped[Optional[Department]] = relationship(Department)
    default_priority_id: Mapped[Optional[int]] = mapped_column(ForeignKey("priority.id"))
    default_priority: Mapped[Optional[Priority]] = relationship(Priority)
    requires_contract: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    requires_login: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    requires_channel: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    requires_sub_status: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    requires_closing_reason: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # offered by the customer portal and the customer's API (R30)
    portal_available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    __table_args__ = (
        CheckConstraint("sla_hours >= 0", name="ck_subject_sla"),
        CheckConstraint("sla_hours <= 8760", name="ck_subject_sla_max"),
    )


class ServiceOrderType(NamedMixin, Model):
    __tablename__ = "service_order_type"
    id: Mapped[int] = mapped_column(primary_key=True)


class CustomerGroup(NamedMixin, Model):
    __tablename__ = "customer_group"
    id: Mapped[int] = mapped_column(primary_key=True)


class City(Model):
    __tablename__ = "city"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    state: Mapped[str] = mapped_column(String(2), nullable=False)
    ibge_code: Mapped[Optional[str]] = mapped_column(String(7), unique=True)
    __table_args__ = (UniqueConstraint("name", "state", name="uq_city_name_state"),)

    def __repr__(self) -> str:
        return f"{self.name}/{self.state}"


class Plan(NamedMixin, Model):
    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(primary_key=True)
    download_mbps: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    upload_mbps: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    price: Mapped[Optional[float]] = mapped_column(Numeric(10, 2))


# ---------------------------------------------------------------- customers


class AddressMixin:
    street: Mapped[Optional[str]] = mapped_column(String(200))
    street_number: Mapped[Optional[str]] = mapped_column(String(20))
    complement: Mapped[Optional[str]] = mapped_column(String(100))
    district: Mapped[Optional[str]] = mapped_column(String(100))
    zip_code: Mapped[Optional[str]] = mapped_column(String(8))

    def address_line(self) -> str:
        parts = [self.street, self.street_number, self.complement, self.district]
        line = ", ".join(p for p in parts if p)
        city = getattr(self, "city", None)
        return f"{line} - {city}" if city else line


class Customer(Model):
    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_type: Mapped[str] = mapped_column(String(2), nullable=False, default="PF")
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    trade_name: Mapped[Optional[str]] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(String(14), nullable=False, unique=True)
    state_registration: Mapped[Optional[str]] = mapped_column(String(20))
    birth_date: Mapped[Optional[dt.date]] = mapped_column(Date)
    group_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer_group.id"), index=True)
    group: Mapped[Optional[CustomerGroup]] = relationship(CustomerGroup)
    notes: Mapped[Optional[str]] = mapped_column(LimitedText(NOTE_TEXT))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    portal_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), unique=True)
    portal_user: Mapped[Optional[User]] = relationship(User)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    # the customer's opt-outs (R25: the protocol is sent all the same)
    accepts_email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    accepts_sms: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default=true())
    # the version an API update names (R29); a change of the contact lists through the API changes it too
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    phones: Mapped[list["CustomerPhone"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerPhone.id"
    )
    emails: Mapped[list["CustomerEmail"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerEmail.id"
    )
    addresses: Mapped[list["CustomerAddress"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerAddress.id"
    )
    contracts: Mapped[list["Contract"]] = relationship(
        back_populates="customer", order_by="Contract.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("person_type IN ('PF', 'PJ')", name="ck_customer_person_type"),
        Index("ix_customer_name", "name"),
    )

    def __repr__(self) -> str:
        return self.name


class CustomerPhone(Model):
    __tablename__ = "customer_phone"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer: Mapped[Customer] = relationship(back_populates="phones")
    number: Mapped[str] = mapped_column(String(13), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="mobile")
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    contact_name: Mapped[Optional[str]] = mapped_column(String(120))

    def __repr__(self) -> str:
        from app.domain.documents import format_phone

        return format_phone(self.number)


class CustomerEmail(Model):
    __tablename__ = "customer_email"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer: Mapped[Customer] = relationship(back_populates="emails")
    email: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # on another customer's record before "one customer per e-mail" (migration 0011): kept, never sent portal links
    legacy_duplicate: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    __table_args__ = (
        Index("uq_customer_email_address", func.lower(email), unique=True,
              sqlite_where=legacy_duplicate.is_(False), postgresql_where=legacy_duplicate.is_(False)),
    )

    def __repr__(self) -> str:
        return self.email


class CustomerAddress(AddressMixin, Model):
    __tablename__ = "customer_address"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True
    )
    customer: Mapped[Customer] = relationship(back_populates="addresses")
    city_id: Mapped[Optional[int]] = mapped_column(ForeignKey("city.id"), index=True)
    city: Mapped[Optional[City]] = relationship(City)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    def __repr__(self) -> str:
        return self.address_line()


class Contract(AddressMixin, Model):
    __tablename__ = "contract"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), nullable=False, index=True)
    customer: Mapped[Customer] = relationship(back_populates="contracts")
    number: Mapped[str] = mapped_column(String(30), nullable=False, unique=True)
    plan_id: Mapped[Optional[int]] = mapped_column(ForeignKey("plan.id"))
    plan: Mapped[Optional[Plan]] = relationship(Plan)
    login: Mapped[Optional[str]] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="active")
    city_id: Mapped[Optional[int]] = mapped_column(ForeignKey("city.id"), index=True)
    city: Mapped[Optional[City]] = relationship(City)
    site_id: Mapped[Optional[int]] = mapped_column(ForeignKey("site.id"))
    site: Mapped[Optional["Site"]] = relationship()
    activated_at: Mapped[Optional[dt.date]] = mapped_column(Date)
    cancelled_at: Mapped[Optional[dt.date]] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)

    __table_args__ = (
        CheckConstraint(
            "status IN ('active', 'suspended', 'cancelled')", name="ck_contract_status"
        ),
    )

    def __repr__(self) -> str:
        plan = f" - {self.plan}" if self.plan else ""
        return f"{self.number}{plan}"


class Site(AddressMixin, Model):
    """The company's own infrastructure: POP, tower, OLT, cabinet."""

    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="pop")
    city_id: Mapped[Optional[int]] = mapped_column(ForeignKey("city.id"))
    city: Mapped[Optional[City]] = relationship(City)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return self.name


# ---------------------------------------------------------------- tickets


ticket_assignee = Table(
    "ticket_assignee",
    Model.metadata,
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("ab_user.id"), primary_key=True, index=True),
)


class ProtocolSequence(Model):
    """The last protocol sequence number used on each day (R1)."""

    __tablename__ = "protocol_sequence"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Ticket(Model):
    __tablename__ = "ticket"
    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(10), nullable=False, default="customer")
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id"))
    customer: Mapped[Optional[Customer]] = relationship(Customer)
    contract_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contract.id"), index=True)
    contract: Mapped[Optional[Contract]] = relationship(Contract)
    site_id: Mapped[Optional[int]] = mapped_column(ForeignKey("site.id"), index=True)
    site: Mapped[Optional[Site]] = relationship(Site)
    subject_id: Mapped[Optional[int]] = mapped_column(ForeignKey("subject.id"))
    subject: Mapped[Optional[Subject]] = relationship(Subject)
    department_id: Mapped[Optional[int]] = mapped_column(ForeignKey("department.id"))
    department: Mapped[Optional[Department]] = relationship(Department)
    priority_id: Mapped[Optional[int]] = mapped_column(ForeignKey("priority.id"))
    priority: Mapped[Optional[Priority]] = relationship(Priority)
    channel_id: Mapped[Optional[int]] = mapped_column(ForeignKey("channel.id"))
    channel: Mapped[Optional[Channel]] = relationship(Channel)
    direction: Mapped[str] = mapped_column(String(10), nullable=False, default="inbound")
    status_id: Mapped[int] = mapped_column(ForeignKey("ticket_status.id"), nullable=False)
    status: Mapped[TicketStatus] = relationship(TicketStatus)
    sub_status_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sub_status.id"))
    sub_status: Mapped[Optional[SubStatus]] = relationship(SubStatus)
    closing_reason_id: Mapped[Optional[int]] = mapped_column(ForeignKey("closing_reason.id"))
    closing_reason: Mapped[Optional[ClosingReason]] = relationship(ClosingReason)
    opening_description: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))
    closing_description: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))
    service_address: Mapped[Optional[str]] = mapped_column(String(300))
    received_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    due_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # R24: when it stopped being a draft, and the legal answer deadline that starts then (app.domain.legal_deadline)
    registered_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    legal_due_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    updated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    is_draft: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    rating: Mapped[Optional[int]] = mapped_column(Integer)
    rating_comment: Mapped[Optional[str]] = mapped_column(LimitedText(NOTE_TEXT))
    related_ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ticket.id"))
    related_ticket: Mapped[Optional["Ticket"]] = relationship(
        remote_side="Ticket.id", foreign_keys=[related_ticket_id]
    )
    grouped_with_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ticket.id"), index=True)
    grouped_with: Mapped[Optional["Ticket"]] = relationship(
        remote_side="Ticket.id", foreign_keys=[grouped_with_id]
    )
    opened_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), index=True)
    opened_by: Mapped[Optional[User]] = relationship(User, foreign_keys=[opened_by_id])
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    updated_by: Mapped[Optional[User]] = relationship(User, foreign_keys=[updated_by_id])
    cancelled_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    cancelled_by: Mapped[Optional[User]] = relationship(User, foreign_keys=[cancelled_by_id])
    cancel_reason: Mapped[Optional[str]] = mapped_column(LimitedText(NOTE_TEXT))
    diagnostics: Mapped[Optional[dict]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    assignees: Mapped[list[User]] = relationship(User, secondary=ticket_assignee)
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", viewonly=True
    )
    messages: Mapped[list["TicketMessage"]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="ticket", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    service_orders: Mapped[list["ServiceOrder"]] = relationship(
        back_populates="ticket", order_by="ServiceOrder.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("type IN ('customer', 'site')", name="ck_ticket_type"),
        CheckConstraint("direction IN ('inbound', 'outbound')", name="ck_ticket_direction"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="ck_ticket_rating"),
        Index("ix_ticket_opened_at", "opened_at"),
        Index("ix_ticket_customer_opened", "customer_id", "opened_at"),
        Index("ix_ticket_status_opened", "status_id", "opened_at"),
        Index("ix_ticket_due_at", "due_at"),
        Index("ix_ticket_legal_due_at", "legal_due_at"),
        Index("ix_ticket_status_legal_due", "status_id", "legal_due_at"),
        Index("ix_ticket_closed_at", "closed_at"),
        Index("ix_ticket_subject_address", "subject_id", "service_address"),
    )

    def __repr__(self) -> str:
        return self.protocol


class TicketEvent(Model):
    """One append-only history entry of a ticket (R11)."""

    __tablename__ = "ticket_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ticket: Mapped[Ticket] = relationship(back_populates="events")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    user: Mapped[Optional[User]] = relationship(User)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    field: Mapped[Optional[str]] = mapped_column(String(60))
    old_value: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))
    new_value: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))
    note: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))

    def __repr__(self) -> str:
        return f"{self.kind} {self.field or ''}".strip()


class TicketMessage(Model):
    __tablename__ = "ticket_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    author: Mapped[Optional[User]] = relationship(User)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    is_internal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    body: Mapped[str] = mapped_column(LimitedText(LONG_TEXT), nullable=False)

    def __repr__(self) -> str:
        return self.body[:60]


class Attachment(Model):
    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False, index=True
    )
    ticket: Mapped[Ticket] = relationship(back_populates="attachments")
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    uploaded_by: Mapped[Optional[User]] = relationship(User)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)

    def __repr__(self) -> str:
        return self.filename


class ServiceOrder(Model):
    """Field work (OS); always belongs to a ticket (R3)."""

    __tablename__ = "service_order"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), nullable=False, index=True)
    ticket: Mapped[Ticket] = relationship(back_populates="service_orders")
    type_id: Mapped[Optional[int]] = mapped_column(ForeignKey("service_order_type.id"))
    type: Mapped[Optional[ServiceOrderType]] = relationship(ServiceOrderType)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open")
    technician_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"), index=True)
    technician: Mapped[Optional[User]] = relationship(User, foreign_keys=[technician_id])
    scheduled_start: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    scheduled_end: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    address: Mapped[Optional[str]] = mapped_column(String(300))
    description: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))
    closing_notes: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    closed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    created_by: Mapped[Optional[User]] = relationship(User, foreign_keys=[created_by_id])

    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'scheduled', 'in_progress', 'done', 'cancelled')",
            name="ck_service_order_status",
        ),
        CheckConstraint(
            "scheduled_end IS NULL OR scheduled_start IS NULL OR scheduled_end >= scheduled_start",
            name="ck_service_order_window",
        ),
        Index("ix_service_order_status", "status"),
    )

    def __repr__(self) -> str:
        return f"OS {self.id}"


class KnowledgeArticle(Model):
    """An agent's script / proposed solution, searchable by keyword."""

    __tablename__ = "knowledge_article"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    keywords: Mapped[Optional[str]] = mapped_column(String(300))
    subject_id: Mapped[Optional[int]] = mapped_column(ForeignKey("subject.id"))
    subject: Mapped[Optional[Subject]] = relationship(Subject)
    operator_guidance: Mapped[Optional[str]] = mapped_column(LimitedText(LONG_TEXT))
    solution: Mapped[str] = mapped_column(LimitedText(LONG_TEXT), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now, onupdate=now)

    def __repr__(self) -> str:
        return self.title


# ---------------------------------------------------------------- exports


EXPORT_FORMATS = ("xlsx", "pdf")
EXPORT_STATUSES = ("queued", "running", "done", "failed")


class ExportJob(Model):
    """A large export made in the background; the file lives under <instance>/exports/."""

    __tablename__ = "export_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    user: Mapped[User] = relationship(User)
    source: Mapped[str] = mapped_column(String(50), nullable=False)
    fmt: Mapped[str] = mapped_column(String(4), nullable=False)
    args: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    row_count: Mapped[Optional[int]] = mapped_column(Integer)
    file_name: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    download_name: Mapped[str] = mapped_column(String(200), nullable=False)
    error: Mapped[Optional[str]] = mapped_column(LimitedText(NOTE_TEXT))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("fmt IN ('xlsx', 'pdf')", name="ck_export_job_fmt"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_export_job_status"),
        Index("ix_export_job_user_created", "user_id", "created_at"),
        Index("ix_export_job_created_at", "created_at"),
    )

    def __repr__(self) -> str:
        return self.download_name


MASS_JOB_STATUSES = ("queued", "running", "done", "failed")


class MassJob(Model):
    """A mass action run in the background (R14): its selection, progress and outcome."""

    __tablename__ = "mass_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    user: Mapped[User] = relationship(User)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    processed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    refused: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[Optional[str]] = mapped_column(LimitedText(NOTE_TEXT))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    heartbeat_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finished_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="ck_mass_job_status"),
        Index("ix_mass_job_user_created", "user_id", "created_at"),
        Index("ix_mass_job_status", "status"),
    )

    def __repr__(self) -> str:
        return f"{self.kind} #{self.id}"


class MassJobItem(Model):
    """One record of a mass job's report: changed, or refused with the reason; written with the change itself."""

    __tablename__ = "mass_job_item"
    job_id: Mapped[int] = mapped_column(ForeignKey("mass_job.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(60), nullable=False)
    changed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[Optional[str]] = mapped_column(LimitedText(NOTE_TEXT))

    def __repr__(self) -> str:
        return self.label


class LoginThrottle(Model):
    """Login attempts of one account or one address, shared by every worker (app.domain.accounts)."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    __table_args__ = (Index("ix_login_throttle_last_attempt_at", "last_attempt_at"),)

    def __repr__(self) -> str:
        return self.key


class SessionVersion(Model):
    """A user's session version: sessions and tokens that carry an older one are no longer valid."""

    __tablename__ = "session_version"
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    def __repr__(self) -> str:
        return f"{self.user_id}:{self.version}"


PORTAL_TOKEN_PURPOSES = ("first_access", "reset")


class PortalToken(Model):
    """A link of the customer portal (first access or new password): only its hash is kept; single use, expiring."""

    __tablename__ = "portal_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"), nullable=False)
    customer: Mapped[Customer] = relationship(Customer)
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    email: Mapped[str] = mapped_column(String(200), nullable=False)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    requested_by: Mapped[Optional[User]] = relationship(User)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # used, or replaced by a newer link

    __table_args__ = (
        CheckConstraint("purpose IN ('first_access', 'reset')", name="ck_portal_token_purpose"),
        Index("ix_portal_token_customer_created", "customer_id", "created_at"),
    )

    def __repr__(self) -> str:
        return f"{self.purpose} #{self.id}"


# ---------------------------------------------------------------- notifications (R25, R27)


NOTIFICATION_CHANNELS = ("email", "sms")
NOTIFICATION_STATUSES = ("pending", "sending", "sent", "failed")
NOTIFICATION_KINDS = ("protocol", "message", "resolved", "first_access", "reset")
OUTBOX_TEXT = 20_000  # a rendered template around a message of LONG_TEXT


class Notification(Model):
    """One e-mail or SMS in the outbox: written with its event, delivered by the job queue at most once."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str] = mapped_column(String(5), nullable=False)
    recipient: Mapped[str] = mapped_column(String(200), nullable=False)
    subject: Mapped[Optional[str]] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(LimitedText(OUTBOX_TEXT), nullable=False)
    attachment_ids: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    ticket: Mapped[Optional[Ticket]] = relationship(Ticket)
    customer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("customer.id", ondelete="SET NULL"), index=True)
    customer: Mapped[Optional[Customer]] = relationship(Customer)
    resend_of_id: Mapped[Optional[int]] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"),
                                                        index=True)
    resend_of: Mapped[Optional["Notification"]] = relationship(remote_side="Notification.id")
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    last_error: Mapped[Optional[str]] = mapped_column(LimitedText(NOTE_TEXT))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, default=now)
    claimed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    sent_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id"))
    created_by: Mapped[Optional[User]] = relationship(User)

    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="ck_notification_channel"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="ck_notification_status"),
        Index("ix_notification_status_next", "status", "next_attempt_at"),
        Index("ix_notification_ticket", "ticket_id", "id"),
        Index("ix_notification_created_at", "created_at"),
    )

    def __repr__(self) -> str:
        return f"{self.kind} {self.channel} {self.recipient}"


class MessageTemplate(Model):
    """The text of one kind of notification on one channel, edited by an administrator (sandboxed Jinja)."""

    __tablename__ = "message_template"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str] = mapped_column(String(5), nullable=False)
    subject: Mapped[Optional[str]] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(LimitedText(NOTE_TEXT), nullable=False)
    updated_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("kind", "channel", name="uq_message_template_kind_channel"),
        CheckConstraint("channel IN ('email', 'sms')", name="ck_message_template_channel"),
    )

    def __repr__(self) -> str:
        return f"{self.kind} ({self.channel})"
