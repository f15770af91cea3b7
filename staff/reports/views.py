"""The owner's reports at /staff/reports/: a day's numbers as a page with charts, or as CSV."""

import csv
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.decorators import user_passes_test
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render

from staff.board import access

from . import charts, services

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def is_staff(user):
    return user.is_active and user.is_staff


def parse_day(value):
    """(day, error): the day asked for, or today and why the value was not understood."""
    if not value:
        return services.today(), ""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return services.today(), f"“{value[:20]}” is not a date like 2026-03-14; showing today."
    if not FIRST_DAY <= day <= LAST_DAY:
        return services.today(), "That date is out of range; showing today."
    return day, ""


@user_passes_test(is_staff, login_url="admin:login")
def day_report(request):
    access.require(request.user, "see_reports")  # 403 for staff without orders.view_reports
    day, error = parse_day(request.GET.get("day"))
    if request.GET.get("format") == "csv":
        if error:
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        return csv_response(services.day_report(day))
    report = services.day_report(day)
    today = services.today()
    context = {
        "report": report,
        "error": error,
        "today": today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < today else None,
        "hour_chart": charts.columns((h.label[:2], h.orders, str(h.orders)) for h in report.hours),
        "stage_chart": charts.rows(
            (s.label, s.average_minutes, f"{s.average_minutes:g} min") for s in report.stages
        ),
        "call_chart": charts.rows(
            (label, report.calls[key], str(report.calls[key]))
            for key, label in [
                ("answered", "Answered"),
                ("abandoned", "Hung up waiting"),
                ("call_back", "Asked for a call-back"),
                ("voicemail", "Voicemail"),
            ]
        ),
        "sms_parts": sms_parts(report),
        "can": access.allowed(request.user),
        "attribution_hours": settings.CAMPAIGN_ATTRIBUTION_HOURS,
    }
    return render(request, "reports/day.html", context)


def sms_parts(report):
    """The stacked bar of the day's texts: delivered, failed, no report yet, each with its
    width and where it starts, in percent."""
    sms = report.sms
    other = sms["total"] - sms["delivered"] - sms["failed"] - sms["opted_out"]
    parts = [("delivered", sms["delivered"]), ("failed", sms["failed"]), ("pending", other)]
    total = sms["total"] or 1
    bars, start = [], 0
    for name, count in parts:
        bars.append((name, count, round(100 * count / total, 1), round(100 * start / total, 1)))
        start += count
    return bars


def csv_rows(report):
    yield ["section", "item", "value"]
    yield ["day", "date", report.day.isoformat()]
    yield ["orders", "orders", report.orders]
    yield ["orders", "cancelled", report.cancelled]
    yield ["orders", "food (subtotal)", f"{report.subtotal:.2f}"]
    yield ["orders", "sales tax", f"{report.tax:.2f}"]
    yield ["orders", "delivery fees", f"{report.delivery_fees:.2f}"]
    yield ["orders", "revenue", f"{report.revenue:.2f}"]
    yield ["payments", "paid", f"{report.paid:.2f}"]
    yield ["payments", "refunded", f"{report.refunded:.2f}"]
    yield ["payments", "outstanding", f"{report.outstanding:.2f}"]
    yield ["orders", "average order", f"{report.average_order:.2f}" if report.average_order else ""]
    yield ["orders", "late", report.late]
    for hour in report.hours:
        yield ["orders per hour", hour.label, hour.orders]
    for hour in report.hours:
        yield ["revenue per hour", hour.label, f"{hour.revenue:.2f}"]
    for stage in report.stages:
        yield ["average minutes in stage", stage.label, stage.average_minutes]
    yield ["texts", "sent", report.sms["total"]]
    yield ["texts", "delivered", report.sms["delivered"]]
    yield ["texts", "failed", report.sms["failed"]]
    yield ["texts", "delivery rate %", "" if report.delivery_rate is None else report.delivery_rate]
    yield ["texts", "segments", report.sms["segments"]]
    for code, meaning, count in report.failures:
        yield ["text failures by error code", f"{code or '-'} {meaning}".strip(), count]
    for key in ("total", "answered", "abandoned", "call_back", "voicemail"):
        yield ["calls", key, report.calls[key]]
    for name, count, road in report.drivers:
        yield ["deliveries by driver", f"{name}: delivered", count]
        yield ["deliveries by driver", f"{name}: average minutes on the road", road or ""]
    yield ["feedback, the week to this day", "average score", report.feedback["average"] or ""]
    yield ["feedback, the week to this day", "scores", report.feedback["scores"]]
    yield ["feedback, the week to this day", "scores of 1 or 2", report.feedback["low"]]
    wait = report.average_wait_seconds
    yield ["calls", "average wait before an agent answered (s)", "" if wait is None else wait]
    for promo in report.promotions:
        name = promo.campaign.name
        yield ["promotion", f"{name}: texts sent", promo.sent]
        yield ["promotion", f"{name}: delivered", promo.delivered]
        yield ["promotion", f"{name}: opt-outs caused", promo.opt_outs]
        yield ["promotion", f"{name}: orders", promo.orders]
        yield ["promotion", f"{name}: revenue", f"{promo.revenue:.2f}"]


def csv_response(report):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="report-{report.day.isoformat()}.csv"'
    writer = csv.writer(response)
    for row in csv_rows(report):
        writer.writerow(row)
    return response
