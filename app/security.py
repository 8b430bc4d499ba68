"""Roles and their permissions, declared as FAB builtin roles (no permission queries per request)."""
from __future__ import annotations


ROLE_ADMIN = "Admin"
ROLE_MANAGER = "Gestor"
ROLE_AGENT = "Atendente"
ROLE_TECHNICIAN = "Tecnico"
ROLE_CUSTOMER = "Assinante"
ROLE_PUBLIC = "Public"
ALL_ROLES = (ROLE_ADMIN, ROLE_MANAGER, ROLE_AGENT, ROLE_TECHNICIAN, ROLE_CUSTOMER, ROLE_PUBLIC)

READ = "can_list|can_show|can_get|can_info"
WRITE = "can_add|can_edit|can_post|can_put"

OPERATIONS = (
    "Ticket|TicketMessage|Attachment|ServiceOrder|Customer|CustomerPhone|CustomerEmail"
    "|CustomerAddress|Contract"
)
CONFIGURATION = (
    "Subject|Department|Channel|TicketStatus|SubStatus|ClosingReason|Priority|ServiceOrderType"
    "|CustomerGroup|City|Plan|Site|GeneralParameters|KnowledgeArticle"
)
OPERATION_MENUS = "AgentSearch|Service|Customers|ServiceOrders|Tickets|MyTickets|TicketHistory|ServiceOrderList|CustomerList|ContractList|Knowledge"
REPORT_MENUS = "Reports|ManagerDashboard|TeamWorkload"
CONFIGURATION_MENUS = "Configuration|Subjects|Departments|Channels|TicketStatuses|SubStatuses|ClosingReasons|Priorities|ServiceOrderTypes|CustomerGroups|Cities|Plans|Sites|GeneralParameters|KnowledgeArticles"
SELF_SERVICE = [
    ["UserDBModelView", "can_userinfo|resetmypassword|userinfoedit"],
    ["ResetMyPasswordView|UserInfoEditView", "can_this_form_get|can_this_form_post"],
]


def _views(names: str, kinds: str = "View|Api") -> str:
    return rf"^({names})({kinds})$"


def _perm(names: str) -> str:
    return rf"^({names})$"


FILES_FULL = [
    ["^TicketFileView$", "^(can_upload|can_download)$"],
    ["^TicketPrintView$", "^can_print$"],
]
EXPORTS = [
    ["^ExportView$", "^(can_export|can_list)$"],
    ["^MyExports$", "^menu_access$"],
]
MASS_JOBS = [  # each user sees only their own jobs (app.domain.mass_jobs)
    ["^MassJobView$", "^can_list$"],
    ["^MyMassJobs$", "^menu_access$"],
]
FILES_READ = [
    ["^TicketFileView$", "^can_download$"],
    ["^TicketPrintView$", "^can_print$"],
]

ROLES = {
    ROLE_ADMIN: [[".*", ".*"]],
    ROLE_MANAGER: [
        [_views(OPERATIONS + "|TicketEvent|MyTicket|MyServiceOrder|Agent|TicketAction"), ".*"],
        [_views(CONFIGURATION), _perm(READ)],
        [_views("KnowledgeArticle"), _perm(READ + "|" + WRITE)],
        [_views("ManagerDashboard|TeamWorkload", "View"), _perm("can_dashboard|can_team")],
        [_views("Technician", "View"), _perm("can_work")],
        [_perm(OPERATION_MENUS + "|" + CONFIGURATION_MENUS + "|" + REPORT_MENUS), "^menu_access$"],
        *FILES_FULL,
        *EXPORTS,
        *MASS_JOBS,
        *SELF_SERVICE,
    ],
    ROLE_AGENT: [
        [_views("Ticket"), _perm(READ + "|" + WRITE + "|can_delete|can_start|can_mass_delete_drafts")],
        [_views("MyTicket"), _perm(READ + "|" + WRITE + "|can_mass_delete_drafts")],
        [_views("TicketMessage|Attachment"), _perm(READ + "|can_add|can_post|can_download")],
        [_views("ServiceOrder|Customer|CustomerPhone|CustomerEmail|CustomerAddress|Contract"), _perm(READ + "|" + WRITE)],
        [_views("TicketEvent"), _perm(READ)],
        [_views("Agent", "View"), _perm("can_search|can_work")],
        [_views("TicketAction", "View"), _perm("can_act")],
        [_views("Ticket", "Api"), _perm("can_act|can_mass_delete_drafts|can_mass_jobs")],
        [_views("KnowledgeArticle", "View"), _perm("can_list|can_show")],
        [_views(CONFIGURATION, "Api"), _perm("can_get|can_info")],
        [_perm(OPERATION_MENUS), "^menu_access$"],
        *FILES_FULL,
        *MASS_JOBS,
        *SELF_SERVICE,
    ],
    ROLE_TECHNICIAN: [
        [_views("MyServiceOrder"), _perm("can_list|can_show|can_edit")],
        [_views("ServiceOrder", "Api"), _perm("can_get|can_put|can_info")],
        [_views("Ticket"), _perm("can_show|can_get")],
        [_views("TicketEvent|TicketMessage|Attachment"), _perm("can_list|can_show|can_get|can_download")],
        [_perm("ServiceOrders|MyServiceOrders"), "^menu_access$"],
        [_views("Technician", "View"), _perm("can_work")],
        [_perm("TechnicianDay"), "^menu_access$"],
        *FILES_READ,  # only on tickets of their own service orders (app.domain.access)
        *SELF_SERVICE,
    ],
    ROLE_CUSTOMER: [  # the API for their own tickets only (app.domain.access): open, rate, reiterate/complain/reopen
        [_views("Ticket", "Api"), _perm("can_get|can_post|can_put|can_info|can_act")],
        [_views("TicketEvent|TicketMessage", "Api"), _perm("can_get|can_info")],
        [_views("Attachment", "Api"), _perm("can_get|can_info|can_download")],
    ],
}


def role_names(user: object) -> set[str]:
    return {role.name for role in getattr(user, "roles", None) or []}


def sees_all_tickets(user: object) -> bool:
    """Admin, Gestor and Atendente see every ticket; others only their own."""
    return bool(role_names(user) & {ROLE_ADMIN, ROLE_MANAGER, ROLE_AGENT})
