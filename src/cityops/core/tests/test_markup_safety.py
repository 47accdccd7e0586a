"""No data becomes markup (issue 10 §2, stored XSS): a scan of every script and template of cityops for the ways
data turns into HTML, so a new one is reviewed instead of shipped. Scripts build markup with text nodes
(textContent, createTextNode) and hand Leaflet nodes, never strings; templates leave Django's autoescaping on and
carry no inline script, which the Content-Security-Policy would refuse anyway."""

import re
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]  # src/cityops


def scripts() -> list[Path]:
    return sorted(p for p in ROOT.glob("*/static/**/*.js") if "vendor" not in p.parts)


def templates() -> list[Path]:
    return sorted(ROOT.glob("**/templates/**/*.html"))


def python_modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts)


SCRIPT_RULES = {
    # Emptying a container is the one innerHTML use allowed.
    "innerHTML with content": re.compile(r"""\.innerHTML\s*\+?=\s*(?!\s*(""|'')\s*;)"""),
    "outerHTML": re.compile(r"\.outerHTML\s*="),
    "insertAdjacentHTML": re.compile(r"insertAdjacentHTML"),
    "document.write": re.compile(r"document\.write"),
    "jQuery-style .html()": re.compile(r"\.html\("),
    "DOMParser / createContextualFragment": re.compile(r"DOMParser|createContextualFragment"),
    # Leaflet puts a string in as HTML: give it a node (a variable holding one), never a string expression.
    "Leaflet content from a string": re.compile(
        r"\.(bindTooltip|bindPopup|setContent|setTooltipContent|setPopupContent)\(\s*(?![A-Za-z_$][\w$]*\s*[,)])"
    ),
    "eval / new Function / string timer": re.compile(r"\beval\(|new Function\(|set(Timeout|Interval)\(\s*[\"'`]"),
}
TEMPLATE_RULES = {
    "|safe": re.compile(r"\|\s*safe(seq)?\b"),
    "autoescape off": re.compile(r"{%\s*autoescape\s+off"),
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}
# Python that returns markup unescaped; each one read and found to escape every piece of data it holds.
MARK_SAFE_REVIEWED = {
    "cases/templatetags/cases_tags.py": "case_actions: every part through format_html",
    "iot/charts.py": "svg_chart: numbers formatted, label and unit escaped",
}


def _hits(paths, rules):
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for name, rule in rules.items():
            for m in rule.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    return found


def test_the_scan_sees_the_files():
    assert any(p.name == "map.js" and p.parent.name == "geo" for p in scripts())
    assert len(templates()) > 20


def test_no_script_turns_data_into_markup():
    assert _hits(scripts(), SCRIPT_RULES) == []


def test_the_script_rules_catch_what_they_are_for():
    bad = [
        'lyr.bindTooltip(p.name + " · " + p.code, { sticky: true });',
        "layer.bindPopup(`<b>${p.name}</b>`);",
        "el.innerHTML = p.name;",
        "el.innerHTML += row;",
        "el.insertAdjacentHTML('beforeend', x);",
    ]
    good = ['lyr.bindTooltip(tip, { sticky: true });', "lyr.bindPopup(div);", 'list.innerHTML = "";']
    for line in bad:
        assert any(rule.search(line) for rule in SCRIPT_RULES.values()), line
    for line in good:
        assert not any(rule.search(line) for rule in SCRIPT_RULES.values()), line


def test_no_template_turns_data_into_markup_or_runs_inline_script():
    assert _hits(templates(), TEMPLATE_RULES) == []


def test_unescaped_markup_from_python_only_where_reviewed():
    users = {str(p.relative_to(ROOT)) for p in python_modules() if re.search(r"mark_safe\(|SafeString\(", p.read_text("utf-8"))}
    assert users <= set(MARK_SAFE_REVIEWED), users - set(MARK_SAFE_REVIEWED)


@pytest.mark.django_db
def test_content_security_policy_runs_no_inline_script():
    policy = Client().get("/accounts/login/")["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()
    assert script_src == ["script-src", "'self'"]
