"""What the cost pages show, composed for the views (afest.blueprints.costs): a structure's
hourly costs with the forms to add and end them, a protocol's statement with its other
costs and evaluation times, a structure's statement over a period."""

from __future__ import annotations

from flask import Response, current_app, render_template, request, url_for
from sqlmodel import Session
from wtforms.fields.choices import SelectChoice

from afest.core import clock
from afest.core.forms import EmptyForm
from afest.core.http import render
from afest.costs import labels, queries
from afest.costs.forms import (
    EndCostForm,
    EvaluationTimeForm,
    HourlyCostForm,
    OtherCostForm,
    PeriodForm,
)
from afest.models import Organisation, Protocol
from afest.proof import proofpack, seal, spreadsheets
from afest.proof.expenses import Period


def end_prefix(public_id: str) -> str:
    """The prefix of a cost's end form: ending in "-" itself, as WTForms adds none after a
    public id that ends in "-" or "_" (and one after any other)."""
    return f"fin-{public_id}-"


def hourly_cost_form(
    session: Session, structure: Organisation, *, posted: bool = True
) -> HourlyCostForm:
    """The form of a new hourly cost (as posted, or blank), offering the structure's
    defaults and people."""
    form = HourlyCostForm() if posted else HourlyCostForm(formdata=None)
    form.offer(queries.costed_people(session, structure.id))
    return form


def render_rates(
    session: Session,
    structure: Organisation,
    *,
    form: HourlyCostForm | None = None,
    failed: tuple[str, EndCostForm] | None = None,
    status: int = 200,
):
    """The structure's hourly costs, each open one with its end form, and the form to add one
    (a form posted in vain shown with its messages)."""
    rows = queries.hourly_costs(session, structure.id)
    ends = {
        row.cost.public_id: EndCostForm(formdata=None, prefix=end_prefix(row.cost.public_id))
        for row in rows
        if row.cost.valid_to is None
    }
    if failed is not None:
        ends[failed[0]] = failed[1]
    return render(
        "costs/rates.html",
        structure=structure,
        rows=rows,
        ends=ends,
        remove_form=EmptyForm(),
        form=form or hourly_cost_form(session, structure, posted=False),
        status=status,
        **labels.words(),
    )


def render_protocol(
    session: Session,
    protocol: Protocol,
    *,
    other_form: OtherCostForm | None = None,
    time_form: EvaluationTimeForm | None = None,
    status: int = 200,
):
    """A protocol's statement over its whole duration, its other costs, its evaluations with
    the tutor's time, and the forms to add a cost and declare a time."""
    costed = queries.protocol_statement(session, protocol, zone=clock.zone())
    evaluations = queries.current_evaluations(session, protocol.id)
    time_form = time_form or evaluation_time_form(session, protocol, posted=False)
    return render(
        "costs/protocol.html",
        protocol=protocol,
        costed=costed,
        other_costs=queries.other_costs(session, protocol.id),
        evaluations=evaluations,
        other_form=other_form or OtherCostForm(formdata=None),
        time_form=time_form,
        remove_form=EmptyForm(),
        status=status,
        **labels.words(),
    )


def evaluation_time_form(session: Session, protocol: Protocol, *, posted: bool = True):
    """The form declaring the tutor's time on one of the protocol's current evaluations (as
    posted, or blank)."""
    form = EvaluationTimeForm() if posted else EvaluationTimeForm(formdata=None)
    form.evaluation.choices = [
        SelectChoice(
            t.evaluation.id,
            f"{spreadsheets.EVALUATION_LABELS[t.evaluation.kind]} — {_day(t.evaluation)}",
        )
        for t in queries.current_evaluations(session, protocol.id)
    ]
    return form


def _day(evaluation) -> str:
    return evaluation.evaluated_on.strftime("%d/%m/%Y")


def statement_period(args) -> tuple[PeriodForm, Period | None]:
    """The period asked for in the query string (the year so far by default), or None with
    the form's messages."""
    form = PeriodForm(args)
    return form, form.period(queries.default_period(clock.today()))


def render_statement(session: Session, structure: Organisation, args, *, status: int | None = None):
    """A structure's statement over the period asked for, or the period's form with its
    messages (422); with its latest funding claims (afest.proof.claims) and the form that
    asks for one."""
    from afest.proof import claims

    form, period = statement_period(args)
    found = None
    if period is not None:
        found = queries.structure_statement(session, structure, period, zone=clock.zone())
        dates = {"du": period.start.isoformat(), "au": period.end.isoformat()}
        downloads = {
            ext: url_for(f"costs.statement_{ext}", structure_id=structure.public_id, **dates)
            for ext in ("xlsx", "pdf")
        }
    return render(
        "costs/statement.html",
        structure=structure,
        form=form,
        found=found,
        downloads=downloads if found else {},
        claims=claims.of_structure(session, structure),
        CLAIM_STATES=claims.STATE_LABELS,
        claim_form=EmptyForm(),
        status=status or (200 if period is not None else 422),
        **labels.words(),
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def statement_download(session: Session, structure: Organisation, args, *, ext: str):
    """A structure's statement over the period asked for as a workbook (ext "xlsx") or a PDF
    to sign ("pdf"), or the page with the period's messages (422)."""
    _form, period = statement_period(args)
    if period is None:
        return render_statement(session, structure, args)
    found = queries.structure_statement(session, structure, period, zone=clock.zone())
    if ext == "xlsx":
        body, mimetype = spreadsheets.statement_xlsx(found), XLSX
    else:
        html = render_template("costs/statement_pdf.html", found=found, **labels.words())
        body = proofpack.plain_pdf(html, base_url=request.url_root)
        body, mimetype = seal.seal(body, using=seal.sealer(current_app)), "application/pdf"
    name = f"afest-depenses-{period.start.isoformat()}-{period.end.isoformat()}.{ext}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, mimetype=mimetype, headers=disposition)
