"""A briefing's files drawn from its figures (briefings.gather): the PDF (WeasyPrint, core/pdf.py; its charts as
inline SVG geometry) and the Excel workbook (openpyxl). Pure functions of the figures: no database."""

from __future__ import annotations

from io import BytesIO

from cityops.core.spreadsheet import defuse


# --- charts (drawn as inline SVG by the PDF template) ---------------------------------------------------------------
def column_chart(labels: list[str], series: list[list[int]], *, width: int = 480, height: int = 150) -> dict:
    """Columns per label (one per series, side by side) scaled to the highest value: rectangles for the template."""
    top = max([v for s in series for v in s] + [1])
    left, bottom, plot_h = 30, 20, height - 30
    slot = (width - left) / max(len(labels), 1)
    bar_w = max(slot * 0.8 / max(len(series), 1), 1)
    bars, ticks = [], []
    for i, label in enumerate(labels):
        x0 = left + i * slot + slot * 0.1
        for j, values in enumerate(series):
            h = values[i] / top * plot_h
            bars.append({"x": round(x0 + j * bar_w, 1), "y": round(height - bottom - h, 1), "w": round(bar_w, 1),
                         "h": round(h, 1), "series": j, "value": values[i]})
        ticks.append({"x": round(left + i * slot + slot / 2, 1), "label": label})
    return {"width": width, "height": height, "bars": bars, "ticks": ticks, "top": top, "left": left,
            "base": height - bottom, "top_y": height - bottom - plot_h}


def bar_chart(rows: list[tuple[str, int]], *, bar_width: int = 220) -> dict:
    """A bar per row (label, value), as wide as its share of the largest: drawn in the table's last column."""
    top = max([v for _label, v in rows] + [1])
    bars = [{"label": label, "value": v, "w": round(v / top * bar_width, 1)} for label, v in rows]
    return {"bar_width": bar_width, "bars": bars}


def charts(figures: dict) -> dict:
    trend = figures["trend"]
    period = figures["period_figures"]
    return {
        "trend": column_chart([d[5:] for d in trend["days"]], [trend["intake"], trend["handled"]])
        if len(trend["days"]) <= 31 else None,
        "channels": bar_chart([(c["label"], c["n"]) for c in period["channels"]]),
        "categories": bar_chart([(c["name"], c["n"]) for c in period["top_categories"]]),
    }


# --- the files --------------------------------------------------------------------------------------------------
def pdf_bytes(figures: dict) -> bytes:
    from cityops.core.pdf import render_pdf

    return render_pdf("dashboard/pdf/briefing.html", {"b": figures, "charts": charts(figures),
                                                      "title": _heading(figures), "basis": basis(figures),
                                                      "now_mark": NOW_MARK})


NOW_MARK = "（生成时数字）"


def basis(figures: dict) -> list[str]:
    """What the figures are of, said in the briefing itself (PDF and workbook): states as at the end of the period,
    the rest counted in the period; and, should a domain's figures be of the moment it was made (a domain without a
    history of its states: `as_of` False), which ones."""
    lines = [f"在办、超期、未处理告警、在调纠纷、稳评阶段、督办及重点案件的状态均为期末（{figures['as_of']}）时的状态，"
             "由各事项的时间线还原，日后重新生成结果不变；受理、办结、告警、预警、调解成功等为期间内发生的数量。"]
    now = [d["label"] for d in figures["domains"] if d.get("as_of") is False]
    if now:
        lines.append(f"{'、'.join(now)}没有可还原期末状态的记录，标注“{NOW_MARK}”的数字为生成简报时"
                     f"（{figures['generated_text']}）的数字，不是期末数字。")
    return lines


def _heading(figures: dict) -> str:
    return f"{figures['region']['name']}{figures['title']}"


def xlsx_bytes(figures: dict) -> bytes:
    """The same figures as a workbook: 概要 (headline figures), 受理渠道, 高发类别, 属地解决率, 趋势 (with a column
    chart), 重点案件 and 预警."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    bold = Font(bold=True)
    period = figures["period_figures"]
    wb = Workbook()
    ws = wb.active
    ws.title = "概要"
    ws.append([_heading(figures)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"统计期间 {figures['from']} 至 {figures['to']}", f"生成于 {figures['generated_text']}"])
    ws.append([])
    ws.append(["指标", "数值"])
    for cell in ws[4]:
        cell.font = bold
    rows = [("期间受理", period["intake"]), ("期间办结", period["handled"]),
            ("按时办结率", period["on_time_rate"]), ("回访数", period["followed_up"]),
            ("满意率", period["satisfaction"]), ("期末在办", figures["open"]),
            ("期末超期在办", figures["overdue"]), ("期间异常预警", figures["warnings"]["count"])]
    rows += [(f["label"], f["value"]) for f in figures["alarms"]]
    rows += [(f"{d['label']}：{f['label']}{'' if d.get('as_of') is not False else NOW_MARK}", f["value"])
             for d in figures["domains"] for f in d["figures"]]
    for label, value in rows:
        ws.append([label, _cell(value)])
        if label in ("按时办结率", "满意率"):
            ws.cell(ws.max_row, 2).number_format = "0.0%"
    ws.append([])
    for line in basis(figures):
        ws.append([line])
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 18

    def sheet(title: str, headers: list[str], body: list[list]):
        s = wb.create_sheet(title)
        s.append(headers)
        for cell in s[1]:
            cell.font = bold
        for row in body:
            s.append([_cell(v) for v in row])
        if not body:
            s.append(["（无）"])
        for i in range(len(headers)):
            s.column_dimensions[chr(65 + i)].width = 20
        return s

    sheet("受理渠道", ["渠道", "件数"], [[c["label"], c["n"]] for c in period["channels"]])
    sheet("高发类别", ["类别", "件数"], [[c["name"], c["n"]] for c in period["top_categories"]])
    levels = sheet("属地解决率", ["层级", "解决", "占比", "属地解决率"],
                   [[lv["name"], lv["resolved"], lv["share"], lv["local_rate"]] for lv in figures["levels"]])
    for row in levels.iter_rows(min_row=2, min_col=3, max_col=4):
        for cell in row:
            cell.number_format = "0.0%"
    trend = figures["trend"]
    t = sheet("趋势", ["日期", "受理", "办结"], [list(r) for r in zip(trend["days"], trend["intake"], trend["handled"], strict=True)])
    if trend["days"]:
        chart = BarChart()
        chart.title = "受理与办结"
        chart.add_data(Reference(t, min_col=2, max_col=3, min_row=1, max_row=len(trend["days"]) + 1), titles_from_data=True)
        chart.set_categories(Reference(t, min_col=1, min_row=2, max_row=len(trend["days"]) + 1))
        t.add_chart(chart, "E2")
    notable = figures["notable"]
    body = []
    for key, label in NOTABLE_LABELS.items():
        for r in notable[key]:
            if key == "disputes":
                body.append([label, r["code"], r["kind"], r["title"], r["state"], r["reported"], "", ""])
            else:
                extra = (f"超期 {r['late_hours']} 小时" if key == "overdue" else
                         f"{r['level']} {r['unit']}" if key == "supervised" else "")
                body.append([label, r["code"], r["category"], r["place"], r["state"], r["reported"], r["deadline"], extra])
    sheet("重点案件", ["类别", "编号", "事项", "地点/标题", "状态", "上报时间", "时限", "说明"], body)
    sheet("预警", ["类别", "区域", "窗口内案件数", "通常数量", "预警时间", "状态"],
          [[w["category"], w["region"], w["observed"], w["expected"], w["detected_at"], w["state"]]
           for w in figures["warnings"]["rows"]])
    defuse(wb)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


NOTABLE_LABELS = {"overdue": "超期最久", "supervised": "督办中", "urgent": "紧急案件", "disputes": "高风险纠纷"}


def _cell(value):
    """A figure as Excel keeps it: numbers as numbers ("12" → 12, "93.5%" → 0.935), other text as it is."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text[:-1]) / 100 if text.endswith("%") else int(text)
        except ValueError:
            return value
    return value
