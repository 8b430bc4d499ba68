"""Realistic pt-BR demo data, built through the domain layer (idempotent)."""
from __future__ import annotations

import datetime as dt
import io
import os
import random
import unicodedata
from typing import Any, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import customers as customer_rules
from app.domain.clock import now
from app.domain.messages import add_message
from app.domain.service_orders import create_service_order, update_service_order
from app.domain.tickets import create_ticket, update_ticket
from app.models import (
    Channel,
    City,
    ClosingReason,
    Contract,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerGroup,
    CustomerPhone,
    Department,
    KnowledgeArticle,
    Plan,
    Priority,
    ServiceOrder,
    ServiceOrderType,
    Site,
    SubStatus,
    Subject,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from app.security import ROLE_AGENT, ROLE_MANAGER, ROLE_TECHNICIAN

# The first demo customer; its presence means the demo data is loaded.
MARKER_CPF = "52998224725"
ALREADY_LOADED = "Dados de demonstração já carregados."

# name, UF, IBGE code, DDD, CEP prefix
CITIES = [
    ("São Paulo", "SP", "3550308", "11", "01310"),
    ("Campinas", "SP", "3509502", "19", "13010"),
    ("Belo Horizonte", "MG", "3106200", "31", "30130"),
    ("Curitiba", "PR", "4106902", "41", "80010"),
    ("Porto Alegre", "RS", "4314902", "51", "90010"),
    ("Salvador", "BA", "2927408", "71", "40020"),
    ("Recife", "PE", "2611606", "81", "50010"),
    ("Fortaleza", "CE", "2304400", "85", "60060"),
]
PLANS = [
    ("Fibra 100 Mega", 100, 50, "79.90"),
    ("Fibra 300 Mega", 300, 150, "99.90"),
    ("Fibra 600 Mega", 600, 300, "129.90"),
    ("Fibra 1 Giga", 1000, 500, "199.90"),
]
GROUPS = ["Residencial", "Empresarial", "Condomínio"]
DEPARTMENTS = ["Suporte técnico", "Financeiro", "Comercial", "Suporte N2"]
SUB_STATUSES = [
    "Aguardando retorno do cliente",
    "Aguardando visita técnica",
    "Aguardando fornecedor",
    "Em análise pelo N2",
]
# name, SLA hours, department, priority, requires contract, requires channel, requires closing reason
SUBJECTS = [
    ("Sem conexão", 8, "Suporte técnico", "Alta", True, False, False),
    ("Lentidão", 24, "Suporte técnico", "Normal", True, False, False),
    ("Conexão intermitente", 24, "Suporte técnico", "Normal", True, False, False),
    ("Troca de senha Wi-Fi", 4, "Suporte técnico", "Baixa", True, False, False),
    ("Mudança de endereço", 72, "Comercial", "Normal", True, False, False),
    ("Financeiro - 2ª via", 4, "Financeiro", "Baixa", False, False, False),
    ("Negociação de débito", 48, "Financeiro", "Normal", False, False, False),
    ("Upgrade de plano", 48, "Comercial", "Normal", True, False, False),
    ("Cancelamento", 48, "Comercial", "Alta", True, True, True),
    ("Manutenção de rede", 6, "Suporte N2", "Urgente", False, False, False),
]
SITES = [("POP Centro", "pop", 0, "Rua Líbero Badaró", "120"), ("OLT Jardim Paulista", "olt", 0, "Alameda Santos", "900")]
STREETS = [
    "Rua das Flores", "Avenida Brasil", "Rua XV de Novembro", "Rua Sete de Setembro",
    "Avenida Getúlio Vargas", "Rua Tiradentes", "Rua Dom Pedro II", "Avenida Santos Dumont",
    "Rua Barão do Rio Branco", "Rua São João", "Rua Marechal Deodoro", "Avenida Independência",
]
DISTRICTS = ["Centro", "Jardim América", "Vila Nova", "Boa Vista", "Santa Cecília", "Jardim Paulista", "Bela Vista"]
FIRST_NAMES = [
    "João", "Maria", "José", "Ana", "Carlos", "Francisca", "Paulo", "Juliana", "Lucas", "Fernanda",
    "Marcos", "Patrícia", "Rafael", "Aline", "Bruno", "Camila", "Pedro", "Larissa", "Thiago", "Beatriz",
    "Gabriel", "Letícia", "Rodrigo", "Vanessa", "Felipe", "Renata", "Gustavo", "Tatiane", "Diego", "Priscila",
    "André", "Luana",
]
SURNAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes",
    "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares", "Fernandes", "Vieira", "Barbosa",
]
COMPANIES = [
    ("Padaria Pão Quente Ltda", "Padaria Pão Quente"),
    ("Farmácia Saúde Total Ltda", "Farmácia Saúde Total"),
    ("Mercadinho Bom Preço ME", "Mercadinho Bom Preço"),
    ("Clínica Odontológica Sorriso Ltda", "Clínica Sorriso"),
    ("Escritório Contábil Exato S/S", "Contábil Exato"),
    ("Auto Peças Rodovia Ltda", "Auto Peças Rodovia"),
    ("Academia Corpo em Forma Ltda", "Corpo em Forma"),
    ("Condomínio Residencial Parque das Árvores", "Parque das Árvores"),
]
DEMO_USERS = [
    ("gestor", "Márcia", "Andrade", ROLE_MANAGER),
    ("atendente", "Bruna", "Teixeira", ROLE_AGENT),
    ("atendente2", "Rafael", "Moura", ROLE_AGENT),
    ("tecnico", "Edson", "Pires", ROLE_TECHNICIAN),
    ("tecnico2", "Cláudio", "Reis", ROLE_TECHNICIAN),
]
# title, subject (or None), keywords, what the agent says (script), solution
KNOWLEDGE = [
    ("Roteiro de abertura do atendimento", None, "abertura saudação protocolo roteiro script",
     "\"Central de atendimento, meu nome é ___. Para sua segurança, pode me confirmar o CPF do titular? "
     "O protocolo deste atendimento é ___.\"",
     "1. Confirme o titular (CPF/CNPJ e data de nascimento ou endereço).\n2. Informe o protocolo logo no "
     "início.\n3. Pergunte o motivo do contato e escolha o assunto.\n4. Confira se há atendimentos em aberto "
     "do cliente (alerta no topo do atendimento)."),
    ("Roteiro de encerramento do atendimento", None, "encerramento finalizar resumo protocolo script",
     "\"Posso ajudar em algo mais? Anote o protocolo ___. Obrigado por falar com a gente!\"",
     "1. Resuma o que foi feito e o próximo passo (visita, retorno, prazo).\n2. Repita o protocolo.\n"
     "3. Registre a descrição do fechamento antes de finalizar."),
    ("Sem conexão com LOS vermelho na ONU", "Sem conexão", "los vermelho onu fibra sem sinal sem internet",
     "\"Vou verificar o sinal do seu equipamento. A luz LOS da ONU está vermelha ou piscando?\"",
     "1. Confira nos diagnósticos a situação do contrato e se há incidente na região.\n2. Peça ao cliente "
     "para verificar se o cabo de fibra está dobrado ou desconectado.\n3. Com LOS vermelho, abra uma OS de "
     "reparo (rompimento de fibra ou conector).\n4. Sem LOS: reinicie a ONU e o roteador (30 segundos "
     "desligados)."),
    ("Lentidão: teste de velocidade correto", "Lentidão", "lentidão lento velocidade speedtest wi-fi cabo",
     "\"Para medirmos corretamente, pode fazer o teste com o computador ligado por cabo ao roteador?\"",
     "1. Teste por cabo em velocidadeinternet.com.br ou speedtest.net, sem outros downloads.\n2. No Wi-Fi, "
     "prefira a rede 5 GHz perto do roteador.\n3. Abaixo de 80% do plano por cabo: registre os resultados e "
     "encaminhe ao N2.\n4. Acima de 80%: oriente sobre cobertura do Wi-Fi e repetidores."),
    ("Troca da senha do Wi-Fi", "Troca de senha Wi-Fi", "senha wi-fi wifi rede trocar",
     "\"Posso trocar a senha agora pelo sistema. Qual senha o senhor prefere? Ela precisa de ao menos 8 "
     "caracteres.\"",
     "1. Confirme o titular.\n2. Troque a senha pelo gerenciamento remoto do roteador.\n3. Oriente o cliente "
     "a reconectar todos os dispositivos com a nova senha."),
    ("Segunda via de boleto", "Financeiro - 2ª via", "boleto fatura segunda via 2ª via pagamento pix",
     "\"Vou enviar a segunda via para o e-mail cadastrado. Também posso informar o código Pix.\"",
     "1. Confira o e-mail cadastrado do cliente.\n2. Envie a 2ª via e informe o vencimento.\n3. Faturas "
     "vencidas há mais de 15 dias: transfira para Negociação de débito."),
    ("Mudança de endereço", "Mudança de endereço", "mudança endereço transferência novo endereço viabilidade",
     "\"Vou verificar a viabilidade no novo endereço. Pode me informar o CEP e o número?\"",
     "1. Consulte a viabilidade técnica do novo endereço.\n2. Com viabilidade, abra uma OS de mudança de "
     "endereço com a data combinada.\n3. Sem viabilidade, registre e encaminhe ao Comercial."),
    ("Cancelamento: retenção", "Cancelamento", "cancelar cancelamento retenção desistência",
     "\"Sinto muito em saber. Posso entender o motivo? Talvez eu consiga uma condição melhor para o senhor.\"",
     "1. Registre o motivo do cancelamento.\n2. Ofereça upgrade ou desconto conforme a política vigente.\n"
     "3. Mantido o pedido, informe multa de fidelidade (se houver) e agende a retirada do equipamento."),
]
OPENINGS = {
    "Sem conexão": [
        "Cliente informa que está sem internet desde ontem à noite. Luz LOS vermelha na ONU.",
        "Sem acesso em todos os dispositivos; já reiniciou o roteador duas vezes.",
    ],
    "Lentidão": [
        "Cliente relata lentidão à noite; teste de velocidade com 40 Mbps no cabo num plano de 300.",
        "Streaming travando e jogos com latência alta desde segunda-feira.",
    ],
    "Conexão intermitente": ["A conexão cai várias vezes ao dia por alguns minutos."],
    "Troca de senha Wi-Fi": ["Cliente pede a troca da senha da rede Wi-Fi; vizinho descobriu a senha atual."],
    "Mudança de endereço": ["Cliente vai se mudar no fim do mês e quer levar a internet para o novo endereço."],
    "Financeiro - 2ª via": ["Cliente pede a 2ª via do boleto deste mês por e-mail."],
    "Negociação de débito": ["Cliente com duas faturas em atraso quer negociar o parcelamento."],
    "Upgrade de plano": ["Cliente quer migrar para um plano mais rápido; trabalha em home office."],
    "Cancelamento": ["Cliente solicita o cancelamento do contrato por mudança de cidade."],
    "Manutenção de rede": ["Alarme de queda de energia na OLT; clientes da região sem conexão."],
}
CLOSINGS = {
    "Problema resolvido": "Reprovisionada a ONU e normalizado o sinal óptico; cliente confirmou a navegação.",
    "Orientação ao cliente": "Cliente orientado sobre o procedimento e satisfeito com o atendimento.",
    "Resolvido com ordem de serviço": "Técnico substituiu o conector e o drop; conexão estável.",
    "Solicitação atendida": "Solicitação atendida e confirmada com o cliente.",
    "Sem contato com o cliente": "Três tentativas de contato sem retorno; atendimento encerrado.",
}
INTERNAL_NOTES = [
    "Verificado sinal da ONU: -27 dBm, acima do limite.",
    "Cliente com fatura em dia; sem bloqueio financeiro.",
    "Encaminhado ao N2 para análise do concentrador.",
    "Sem incidente aberto na região no momento.",
]
CUSTOMER_MESSAGES = [
    "Olá! Recebemos sua solicitação e já estamos verificando.",
    "Agendamos a visita técnica; o técnico entrará em contato antes de ir.",
    "Pode reiniciar o equipamento e nos avisar se voltou a funcionar?",
]


def cpf_from(base: int) -> str:
    """Return the valid CPF whose first nine digits are `base`."""
    nums = [int(c) for c in f"{base:09d}"[-9:]]
    for size in (9, 10):
        rest = sum(n * w for n, w in zip(nums, range(size + 1, 1, -1))) % 11
        nums.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, nums))


def cnpj_from(root: int, branch: int = 1) -> str:
    """Return the valid CNPJ of the 8-digit `root` and 4-digit `branch`."""
    nums = [int(c) for c in f"{root:08d}{branch:04d}"[-12:]]
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for w in (weights, [6] + weights):
        rest = sum(n * k for n, k in zip(nums, w)) % 11
        nums.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, nums))


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "." for c in plain.lower()).strip(".")


def _get_or_create(session: Session, model: type, lookup: dict[str, Any], **values: Any) -> Any:
    obj = session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        session.add(obj)
        session.flush()
    return obj


def ensure_configuration(session: Session) -> dict[str, Any]:
    """Create the demo configuration rows that are missing; return them by name."""
    conf: dict[str, Any] = {}
    conf["cities"] = [
        _get_or_create(session, City, {"name": n, "state": uf}, ibge_code=ibge) for n, uf, ibge, _, _ in CITIES
    ]
    conf["plans"] = [
        _get_or_create(session, Plan, {"name": n}, download_mbps=d, upload_mbps=u, price=p, active=True)
        for n, d, u, p in PLANS
    ]
    conf["groups"] = [_get_or_create(session, CustomerGroup, {"name": n}, active=True) for n in GROUPS]
    conf["departments"] = {n: _get_or_create(session, Department, {"name": n}, active=True) for n in DEPARTMENTS}
    conf["sub_statuses"] = [_get_or_create(session, SubStatus, {"name": n}, active=True) for n in SUB_STATUSES]
    priorities = {p.name: p for p in session.scalars(select(Priority))}
    conf["subjects"] = {}
    for name, sla, dept, prio, contract, channel, reason in SUBJECTS:
        conf["subjects"][name] = _get_or_create(
            session, Subject, {"name": name}, sla_hours=sla, active=True,
            default_department=conf["departments"][dept], default_priority=priorities.get(prio),
            requires_contract=contract, requires_channel=channel, requires_closing_reason=reason,
        )
    conf["sites"] = [
        _get_or_create(session, Site, {"name": n}, kind=kind, city=conf["cities"][c], street=street,
                       street_number=number, district="Centro", active=True)
        for n, kind, c, street, number in SITES
    ]
    return conf


def _ensure_users(session: Session) -> dict[str, Any]:
    from app.extensions import appbuilder

    sm = appbuilder.sm
    password = os.environ.get("DEMO_PASSWORD", "Atende-demo-2026")
    users = {}
    for username, first, last, role in DEMO_USERS:
        user = sm.find_user(username=username)
        if user is None:
            user = sm.add_user(username, first, last, f"{username}@atende.demo", sm.find_role(role),
                               password, commit=False)
            if not user:
                raise RuntimeError(f"Não foi possível criar o usuário de demonstração {username}.")
            session.flush()
        users[username] = user
    admin = sm.find_user(username=os.environ.get("ADMIN_USERNAME", "admin"))
    users["admin"] = admin or users["gestor"]
    return users


def _backdate(session: Session, when: dt.datetime) -> None:
    """Give the pending history entries and messages the time they happened in the story."""
    for obj in session.new:
        if isinstance(obj, (TicketEvent, TicketMessage)):
            obj.created_at = when


def _customers(session: Session, rnd: random.Random, conf: dict[str, Any]) -> list[Customer]:
    made: list[Customer] = []
    logins: set[str] = set()
    contract_no = 1000
    people = [(f, s, t) for f in FIRST_NAMES for s in SURNAMES for t in SURNAMES if s != t]
    rnd.shuffle(people)
    specs: list[tuple[str, str, Optional[str], str]] = []
    for first, sur1, sur2 in people[:32]:
        specs.append(("PF", f"{first} {sur1} {sur2}", None, slug(f"{first}.{sur2}")))
    for name, trade in COMPANIES:
        specs.append(("PJ", name, trade, slug(trade).replace(".", "")))
    today = now().date()
    for index, (ptype, name, trade, login_base) in enumerate(specs):
        city_index = index % len(CITIES)
        city = conf["cities"][city_index]
        ddd, cep = CITIES[city_index][3], CITIES[city_index][4]
        if ptype == "PF":
            document = MARKER_CPF if index == 0 else cpf_from(rnd.randint(100_000_000, 199_999_999))
            group = conf["groups"][0]
            birth = dt.date(rnd.randint(1950, 2003), rnd.randint(1, 12), rnd.randint(1, 28))
        else:
            document = cnpj_from(rnd.randint(10_000_000, 99_999_999))
            group = conf["groups"][2] if "Condomínio" in name else conf["groups"][1]
            birth = None
        customer = Customer(person_type=ptype, name=name, trade_name=trade, document=document,
                            birth_date=birth, group=group, active=True,
                            created_at=now() - dt.timedelta(days=rnd.randint(60, 1500)))
        street, district = rnd.choice(STREETS), rnd.choice(DISTRICTS)
        number = str(rnd.randint(10, 2500))
        zip_code = f"{cep}{rnd.randint(0, 999):03d}"
        customer.phones.append(CustomerPhone(number=f"{ddd}9{rnd.randint(60000000, 99999999)}", kind="whatsapp",
                                             is_primary=True))
        if rnd.random() < 0.4:
            customer.phones.append(CustomerPhone(number=f"{ddd}3{rnd.randint(1000000, 9999999)}", kind="landline",
                                                 is_primary=False, contact_name=name.split()[0]))
        # reserved domains (RFC 2606): demo data never mails a real address
        customer.emails.append(CustomerEmail(email=f"{login_base}@{'example.com' if ptype == 'PF' else 'example.net'}",
                                             is_primary=True))
        customer.addresses.append(CustomerAddress(street=street, street_number=number, district=district, zip_code=zip_code,
                                                  city=city, is_primary=True))
        customer_rules.save_customer(session, customer)
        session.flush()
        for n in range(1 if rnd.random() < 0.75 else 2):
            contract_no += 1
            login = login_base if n == 0 else f"{login_base}{n + 1}"
            while login in logins:
                login = f"{login_base}{rnd.randint(2, 99)}"
            logins.add(login)
            status = "active" if n == 0 or rnd.random() < 0.3 else rnd.choice(["suspended", "cancelled"])
            if index % 13 == 7:
                status = "suspended"
            activated = today - dt.timedelta(days=rnd.randint(30, 1400))
            contract = Contract(
                customer=customer, number=f"CT-{contract_no:06d}", login=login, status=status,
                plan=conf["plans"][3] if ptype == "PJ" else rnd.choice(conf["plans"][:3]),
                street=street if n == 0 else rnd.choice(STREETS),
                street_number=number if n == 0 else str(rnd.randint(1, 999)),
                district=district, zip_code=zip_code, city=city, site=conf["sites"][index % 2],
                activated_at=activated,
                cancelled_at=activated + dt.timedelta(days=rnd.randint(10, 25)) if status == "cancelled" else None,
            )
            customer_rules.save_contract(session, contract)
        session.flush()
        made.append(customer)
    return made


def _plan_tickets(rnd: random.Random) -> list[dict[str, Any]]:
    """Decide the story of each demo ticket: when, what and how it ends."""
    base = now()
    outcomes = (["new"] * 8 + ["pending"] * 10 + ["in_progress"] * 10 + ["resolved"] * 24 + ["cancelled"] * 4
                + ["draft"] * 4)
    plans = []
    for outcome in outcomes:
        age = rnd.uniform(0.05, 3) if outcome in ("new", "draft") else rnd.uniform(0.2, 20)
        opened = (base - dt.timedelta(days=age)).replace(microsecond=0)
        plans.append({"outcome": outcome, "opened_at": opened})
    plans.sort(key=lambda p: p["opened_at"])
    return plans


def ensure_knowledge_base(session: Session) -> int:
    """Create the demo knowledge-base articles and scripts that are missing; return how many exist."""
    subjects = {s.name: s for s in session.scalars(select(Subject))}
    for title, subject, keywords, guidance, solution in KNOWLEDGE:
        _get_or_create(session, KnowledgeArticle, {"title": title}, subject=subjects.get(subject or ""),
                       keywords=keywords, operator_guidance=guidance, solution=solution, active=True)
    return len(KNOWLEDGE)


def _todays_agenda(session: Session, conf: dict[str, Any], people: list[Customer], technician: Any,
                   agent: Any, os_types: dict[str, ServiceOrderType]) -> int:
    """Give the demo technician today's visits, and one left over from yesterday."""
    today = now().replace(minute=0, second=0, microsecond=0)
    windows = [(today.replace(hour=8), 2), (today.replace(hour=10), 2), (today.replace(hour=14), 3),
               (today.replace(hour=8) - dt.timedelta(days=1), 2)]
    stories = [("Sem conexão", "Reparo", "Cliente sem conexão; LOS vermelho na ONU. Verificar drop e conectores."),
               ("Conexão intermitente", "Reparo", "Conexão cai várias vezes ao dia; medir sinal e trocar conector."),
               ("Mudança de endereço", "Mudança de endereço", "Instalar no novo endereço; levar ONU e roteador."),
               ("Sem conexão", "Reparo", "Visita de ontem não realizada: cliente ausente. Reagendar com ele.")]
    with_contract = [c for c in people if any(k.status == "active" for k in c.contracts)]
    for (start, hours), (subject, kind, description), customer in zip(windows, stories, with_contract[-4:]):
        contract = next(k for k in customer.contracts if k.status == "active")
        ticket = Ticket(type="customer", customer=customer, contract=contract, subject=conf["subjects"][subject],
                        opening_description=OPENINGS[subject][0], is_draft=False, direction="inbound")
        create_ticket(session, ticket, agent)
        session.flush()
        add_message(session, TicketMessage(ticket=ticket, is_internal=False, body=CUSTOMER_MESSAGES[1]), agent)
        create_service_order(session, ServiceOrder(
            ticket=ticket, type=os_types.get(kind), technician=technician, status="scheduled",
            scheduled_start=start, scheduled_end=start + dt.timedelta(hours=hours), description=description), agent)
        session.flush()
    return len(windows)


def seed_demo(session: Session) -> str:
    """Load the demo data once; return the pt-BR summary and the demo subscriber's portal credentials.

    Past events of the story send nothing: the notifications are muted while it is written.
    """
    from app.domain import notifications

    with notifications.muted(session):
        summary = _seed_demo(session)
        portal = ensure_portal_demo(session)
    return f"{summary}\n{portal}"


def _seed_demo(session: Session) -> str:
    if session.scalar(select(Customer.id).where(Customer.document == MARKER_CPF)):
        ensure_knowledge_base(session)
        session.commit()
        return ALREADY_LOADED
    rnd = random.Random(20261122)
    users = _ensure_users(session)
    conf = ensure_configuration(session)
    agents = [users["atendente"], users["atendente2"]]
    technicians = [users["tecnico"], users["tecnico2"]]
    statuses: dict[str, list[TicketStatus]] = {}
    for status in session.scalars(select(TicketStatus).where(TicketStatus.active.is_(True)).order_by(TicketStatus.order)):
        statuses.setdefault(status.category, []).append(status)
    channels = list(session.scalars(select(Channel).where(Channel.active.is_(True), Channel.is_portal.is_(False))))
    reasons = list(session.scalars(select(ClosingReason).where(ClosingReason.active.is_(True))))
    os_types = {t.name: t for t in session.scalars(select(ServiceOrderType).where(ServiceOrderType.active.is_(True)))}

    people = _customers(session, rnd, conf)
    subjects = [s for name, s in conf["subjects"].items() if name != "Manutenção de rede"]
    counts = {"tickets": 0, "messages": 0, "orders": 0}
    for index, plan in enumerate(_plan_tickets(rnd)):
        opened: dt.datetime = plan["opened_at"]
        outcome = plan["outcome"]
        agent = rnd.choice(agents)
        if index % 25 == 3:
            ticket = Ticket(type="site", site=rnd.choice(conf["sites"]), subject=conf["subjects"]["Manutenção de rede"])
        else:
            customer = rnd.choice(people)
            subject = rnd.choice(subjects)
            if outcome == "cancelled":
                subject = conf["subjects"]["Financeiro - 2ª via"]
            ticket = Ticket(type="customer", customer=customer, subject=subject)
            usable = [c for c in customer.contracts if c.status != "cancelled"] or customer.contracts
            if subject.requires_contract or rnd.random() < 0.5:
                ticket.contract = rnd.choice(usable)
        ticket.opening_description = rnd.choice(OPENINGS[ticket.subject.name])
        ticket.channel = rnd.choice(channels)
        ticket.direction = "outbound" if rnd.random() < 0.15 else "inbound"
        ticket.opened_at = opened
        ticket.received_at = opened
        ticket.is_draft = outcome == "draft"
        ticket.status = statuses["new"][0]
        if outcome != "draft" and rnd.random() < 0.7:
            ticket.assignees = [agent] if rnd.random() < 0.8 else list(agents)
        create_ticket(session, ticket, agent)
        _backdate(session, opened)
        session.flush()
        counts["tickets"] += 1
        if outcome in ("new", "draft"):
            continue

        step = _clamp(opened + dt.timedelta(minutes=rnd.randint(5, 90)))
        add_message(session, TicketMessage(ticket=ticket, is_internal=True, body=rnd.choice(INTERNAL_NOTES)), agent)
        counts["messages"] += 1
        if rnd.random() < 0.6:
            add_message(session, TicketMessage(ticket=ticket, is_internal=False, body=rnd.choice(CUSTOMER_MESSAGES)),
                        agent)
            counts["messages"] += 1
        _backdate(session, step)
        session.flush()

        category = "pending" if outcome == "pending" else "in_progress"
        step = _clamp(step + dt.timedelta(minutes=rnd.randint(10, 240)))
        ticket.status = rnd.choice(statuses[category])
        if category == "pending":
            ticket.sub_status = rnd.choice(conf["sub_statuses"])
        if not ticket.assignees:
            ticket.assignees = [agent]
        _change(session, ticket, agent, step)

        field_work = ticket.type == "site" or ticket.subject.name in ("Sem conexão", "Conexão intermitente",
                                                                       "Mudança de endereço")
        if field_work and counts["orders"] < 12 and outcome in ("in_progress", "resolved", "pending"):
            order = _service_order(session, rnd, ticket, technicians, os_types, agent, step, outcome == "resolved")
            counts["orders"] += 1
            step = _clamp(max(step, order.closed_at or step))

        if outcome == "resolved":
            step = _clamp(step + dt.timedelta(hours=rnd.uniform(1, 30)))
            for order in ticket.service_orders:  # R28: the field work ends before the ticket does
                if order.status not in ("done", "cancelled"):
                    order.status = "done"
                    order.closing_notes = "Serviço concluído; cliente confirmou a conexão."
                    update_service_order(session, order, order.technician or agent)
                    order.closed_at = step
            session.flush()
            reason = rnd.choice(reasons)
            ticket.status = statuses["resolved"][0]
            ticket.sub_status = None
            ticket.closing_reason = reason
            ticket.closing_description = CLOSINGS.get(reason.name, "Atendimento concluído.")
            ticket.closed_at = step
            if rnd.random() < 0.5:
                ticket.rating = rnd.choice([3, 4, 5, 5, 5])
            _change(session, ticket, agent, step)
        elif outcome == "cancelled":
            step = _clamp(step + dt.timedelta(hours=rnd.uniform(0.5, 5)))
            ticket.status = statuses["cancelled"][0]
            ticket.cancel_reason = "Cliente abriu o mesmo pedido em duplicidade."
            ticket.cancelled_by = agent
            ticket.closed_at = step
            _change(session, ticket, agent, step)
    counts["orders"] += _todays_agenda(session, conf, people, users["tecnico"], agents[0], os_types)
    articles = ensure_knowledge_base(session)
    session.commit()
    return (f"Dados de demonstração carregados: {len(CITIES)} cidades, {len(PLANS)} planos, "
            f"{len(SUBJECTS)} assuntos, {len(people)} clientes, {counts['tickets']} atendimentos, "
            f"{counts['messages']} mensagens, {counts['orders']} ordens de serviço, {articles} artigos da base "
            f"de conhecimento; usuários {', '.join(u for u, *_ in DEMO_USERS)} (senha em DEMO_PASSWORD).")


def _clamp(when: dt.datetime) -> dt.datetime:
    """Keep a story step in the past."""
    return min(when, now() - dt.timedelta(minutes=2)).replace(microsecond=0)


def _change(session: Session, ticket: Ticket, user: Any, when: dt.datetime) -> None:
    update_ticket(session, ticket, user)
    ticket.updated_at = when
    _backdate(session, when)
    session.flush()


def _service_order(session: Session, rnd: random.Random, ticket: Ticket, technicians: Iterable[Any],
                   os_types: dict[str, ServiceOrderType], user: Any, when: dt.datetime, finish: bool) -> ServiceOrder:
    start = (when + dt.timedelta(hours=rnd.randint(2, 30))).replace(minute=0, second=0)
    if start.hour > 16:
        start = (start + dt.timedelta(days=1)).replace(hour=8)
    elif start.hour < 8:
        start = start.replace(hour=8)
    kind = "Visita técnica" if ticket.type == "site" else (
        "Mudança de endereço" if ticket.subject.name == "Mudança de endereço" else "Reparo")
    order = ServiceOrder(ticket=ticket, type=os_types.get(kind), technician=rnd.choice(list(technicians)),
                         status="scheduled", scheduled_start=start, scheduled_end=start + dt.timedelta(hours=2),
                         description=f"{kind}: {ticket.opening_description}", opened_at=when)
    create_service_order(session, order, user)
    _backdate(session, when)
    session.flush()
    if finish and order.scheduled_end < now():
        order.status = "done"
        order.closing_notes = "Conector refeito e potência do sinal normalizada (-19 dBm). Cliente navegando."
        update_service_order(session, order, order.technician)
        order.started_at = start
        order.closed_at = order.scheduled_end
        _backdate(session, order.scheduled_end)
        session.flush()
    return order


# ---------------------------------------------------------------- the demo subscriber (central do assinante)

PORTAL_CPF = cpf_from(248_163_264)  # 248.163.264-80
PORTAL_SUBJECTS = ("Sem conexão", "Lentidão", "Conexão intermitente", "Troca de senha Wi-Fi", "Mudança de endereço",
                   "Financeiro - 2ª via", "Upgrade de plano")
SPEED_TEST = ("Teste de velocidade por cabo (speedtest.net)\n"
              "19h10  download 38 Mbps  upload 21 Mbps  ping 48 ms\n"
              "21h30  download 41 Mbps  upload 19 Mbps  ping 52 ms\n").encode()


def ensure_portal_demo(session: Session) -> str:
    """The demo subscriber of the customer portal and a ticket in every state; return the credentials line.

    Idempotent: the customer, their access and their tickets are created only when missing. The password is
    DEMO_PASSWORD when it meets the policy for this customer, otherwise a random one; it is printed when the
    access is created, never stored in clear.
    """
    from app.domain.documents import format_document

    for subject in session.scalars(select(Subject).where(Subject.name.in_(PORTAL_SUBJECTS))):
        subject.portal_available = True  # offered by the portal (R30)
    customer = session.scalar(select(Customer).where(Customer.document == PORTAL_CPF))
    if customer is None:
        customer = _portal_customer(session)
    password = None
    if customer.portal_user is None:
        password = _portal_password(customer)
        _set_portal_password(session, customer, password)
    if not session.scalar(select(Ticket.id).where(Ticket.customer_id == customer.id).limit(1)):
        _portal_tickets(session, customer)
    session.commit()
    where = f"Central do assinante (/central/): CPF {format_document(PORTAL_CPF)}, {customer.name}"
    if password is None:
        return (f"{where}; senha definida no primeiro carregamento (para outra, use \"Reenviar acesso\" na ficha "
                f"do cliente: o link fica na caixa de saída).")
    if password == os.environ.get("DEMO_PASSWORD"):
        return f"{where}, senha: a de DEMO_PASSWORD."
    return f"{where}, senha: {password} (anote-a: ela não será mostrada de novo)."


def _portal_password(customer: Customer) -> str:
    """DEMO_PASSWORD if the policy takes it for this customer, else a random password it takes."""
    from app.domain.accounts import check_password
    from app.domain.errors import ValidationError
    from app.domain.portal.accounts import personal_words
    from app.security_views import generate_password

    candidate = os.environ.get("DEMO_PASSWORD") or generate_password()
    while True:
        try:
            check_password(candidate, personal_words(customer))
            return candidate
        except ValidationError:
            candidate = generate_password()


def _set_portal_password(session: Session, customer: Customer, password: str) -> None:
    """The portal's own way to give a customer access (their Assinante user)."""
    from app.domain.portal.accounts import set_portal_password

    set_portal_password(session, customer, password)


def _portal_customer(session: Session) -> Customer:
    conf = ensure_configuration(session)
    city = conf["cities"][0]
    plans = {plan.name: plan for plan in conf["plans"]}
    customer = Customer(person_type="PF", name="Helena Duarte Campos", document=PORTAL_CPF,
                        birth_date=dt.date(1988, 5, 14), group=conf["groups"][0], active=True,
                        created_at=now() - dt.timedelta(days=800))
    customer.phones.append(CustomerPhone(number="11976543210", kind="whatsapp", is_primary=True))
    customer.phones.append(CustomerPhone(number="1132104567", kind="landline", contact_name="Escritório"))
    customer.emails.append(CustomerEmail(email="helena.campos@example.com", is_primary=True))
    customer.addresses.append(CustomerAddress(street="Rua Harmonia", street_number="245", complement="apto 32",
                                              district="Vila Madalena", zip_code="05435000", city=city,
                                              is_primary=True))
    customer_rules.save_customer(session, customer)
    session.flush()
    for number, login, plan, street, street_number, district, zip_code in (
        ("CT-009001", "helena.campos", "Fibra 600 Mega", "Rua Harmonia", "245", "Vila Madalena", "05435000"),
        ("CT-009002", "helena.escritorio", "Fibra 100 Mega", "Rua Fradique Coutinho", "1120", "Pinheiros",
         "05416001"),
    ):
        customer_rules.save_contract(session, Contract(
            customer=customer, number=number, login=login, status="active", plan=plans[plan], street=street,
            street_number=street_number, district=district, zip_code=zip_code, city=city, site=conf["sites"][0],
            activated_at=now().date() - dt.timedelta(days=700)))
    session.flush()
    return customer


def _portal_tickets(session: Session, customer: Customer) -> None:
    """A draft (not shown in the portal), new, in progress with a file and a visit, past its SLA, past the legal
    deadline, resolved within the reopen window (not rated yet) and cancelled; public and internal messages."""
    from flask import current_app

    from app.domain.attachments import add_attachment
    from app.domain.tickets import open_portal_ticket
    from app.extensions import appbuilder

    agent, technician = appbuilder.sm.find_user(username="atendente"), appbuilder.sm.find_user(username="tecnico")
    subscriber = customer.portal_user
    subjects = {s.name: s for s in session.scalars(select(Subject))}
    statuses: dict[str, TicketStatus] = {}
    for status in session.scalars(select(TicketStatus).where(TicketStatus.active.is_(True))
                                  .order_by(TicketStatus.order.desc())):
        statuses[status.category] = status
    reasons = {r.name: r for r in session.scalars(select(ClosingReason).where(ClosingReason.active.is_(True)))}
    phone = session.scalar(select(Channel).where(Channel.name == "Telefone"))
    home, office = sorted(customer.contracts, key=lambda c: c.number)
    base = now()

    def ticket(subject: str, contract: Contract, hours_ago: float, description: str, draft: bool = False) -> Ticket:
        opened = (base - dt.timedelta(hours=hours_ago)).replace(microsecond=0)
        made = Ticket(type="customer", customer=customer, contract=contract, subject=subjects[subject],
                      opening_description=description, channel=phone, direction="inbound", opened_at=opened,
                      received_at=opened, is_draft=draft, status=statuses["new"],
                      assignees=[] if draft else [agent])
        create_ticket(session, made, agent)
        _backdate(session, opened)
        session.flush()
        return made

    def say(made: Ticket, body: str, internal: bool, hours_ago: float) -> None:
        add_message(session, TicketMessage(ticket=made, is_internal=internal, body=body), agent)
        _backdate(session, _clamp(base - dt.timedelta(hours=hours_ago)))
        session.flush()

    def move(made: Ticket, category: str, hours_ago: float, **values: Any) -> None:
        made.status = statuses[category]
        for name, value in values.items():
            setattr(made, name, value)
        _change(session, made, agent, _clamp(base - dt.timedelta(hours=hours_ago)))

    ticket("Upgrade de plano", home, 0.3, "Cliente quer saber as condições do plano de 1 Giga.", draft=True)

    opened = open_portal_ticket(session, subscriber, customer, subjects["Conexão intermitente"], office,
                                "A internet do escritório cai várias vezes por dia desde ontem.")
    add_message(session, TicketMessage(ticket=opened, is_internal=False, body=(
        "Olá, Helena! Recebemos seu pedido e vamos analisar a conexão do escritório.")), agent)
    session.flush()

    visit = ticket("Mudança de endereço", home, 30, "Cliente vai mudar de apartamento no mesmo prédio (do 32 para o 81).")
    say(visit, "Viabilidade confirmada: mesma caixa de atendimento, sem custo de instalação.", True, 29)
    move(visit, "in_progress", 28)
    say(visit, "Agendamos a visita técnica para amanhã, das 9h às 12h. O técnico ligará antes de ir.", False, 27)
    start = (base + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    create_service_order(session, ServiceOrder(
        ticket=visit, type=session.scalar(select(ServiceOrderType).where(ServiceOrderType.name == "Mudança de endereço")),
        technician=technician, status="scheduled", scheduled_start=start, scheduled_end=start + dt.timedelta(hours=3),
        description="Mudança de endereço: passar o cabo do apto 32 para o 81 e instalar a ONU."), agent)
    _backdate(session, _clamp(base - dt.timedelta(hours=27)))
    session.flush()

    slow = ticket("Lentidão", home, 50, "Lentidão à noite: 40 Mbps no cabo num plano de 600 Mega.")
    move(slow, "pending", 48, sub_status=session.scalar(
        select(SubStatus).where(SubStatus.name == "Aguardando retorno do cliente")))
    say(slow, "Pode fazer um teste de velocidade com o computador no cabo e nos enviar o resultado?", False, 47)
    say(slow, "Sem alarmes na OLT; concentrador com folga. Aguardar o teste do cliente.", True, 46)
    sent = add_attachment(session, slow, subscriber, "teste-velocidade.txt", io.BytesIO(SPEED_TEST),
                          current_app.config["UPLOAD_FOLDER"])
    sent.created_at = _clamp(base - dt.timedelta(hours=30))
    _backdate(session, sent.created_at)
    session.flush()

    late = ticket("Sem conexão", home, 9 * 24, "Sem internet desde a chuva de sábado; LOS vermelho na ONU.")
    move(late, "in_progress", 9 * 24 - 2)
    say(late, "Rompimento de fibra na rua; aguardando a equipe da prefeitura liberar o poste.", True, 8 * 24)
    say(late, "Identificamos um rompimento de fibra na sua rua e estamos trabalhando no reparo.", False, 8 * 24 - 1)

    wifi = ticket("Troca de senha Wi-Fi", home, 30, "Cliente pede a troca da senha do Wi-Fi.")
    say(wifi, "Senha trocada pelo gerenciamento remoto; cliente reconectou os aparelhos.", True, 21)
    move(wifi, "resolved", 20, closed_at=_clamp(base - dt.timedelta(hours=20)),
         closing_reason=reasons.get("Solicitação atendida"),
         closing_description="Senha do Wi-Fi trocada; a nova senha foi informada por telefone.")

    twice = ticket("Financeiro - 2ª via", office, 5 * 24, "Cliente pede a 2ª via do boleto do escritório.")
    move(twice, "cancelled", 5 * 24 - 1, closed_at=_clamp(base - dt.timedelta(hours=5 * 24 - 1)),
         cancel_reason="Cliente abriu o mesmo pedido em duplicidade.", cancelled_by=agent)
