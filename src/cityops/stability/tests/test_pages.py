"""The pages: the public consultation page (no login to read, a signed-in resident comments, only approved
comments shown), moderation by the assessing staff, scoping, and the decision page's forms."""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from cityops.stability import services
from cityops.stability.models import Comment, Decision

pytestmark = pytest.mark.django_db


def test_public_page_needs_no_login_and_shows_only_approved_comments(client, walk, resident, assessor, make_user):
    d = walk("consultation")
    other = make_user("t_st_resident2", "resident", first_name="市民 钱多多")
    approved = services.comment_submit(decision=d, actor=resident, stance="support", text="支持旧城改造，改善居住条件")
    pending = services.comment_submit(decision=d, actor=other, stance="oppose", text="补偿太低，我不同意征收方案")
    services.comment_moderate(comment=approved, actor=assessor, approve=True)
    page = client.get(f"/stability/public/{d.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and d.title in html and "汉阳区房屋征收管理办公室" in html
    assert "支持旧城改造" in html and "补偿太低" not in html
    assert "登录后发表意见" in html and 'id="comment-form"' not in html
    # posting without login leads to the login page, nothing written
    r = client.post(f"/stability/public/{d.pk}/", {"stance": "oppose", "text": "匿名意见不应被收录"})
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert Comment.objects.filter(decision=d).count() == 2
    # the resident sees the form, their own pending comment apart, and the public list without others' pending ones
    client.force_login(other)
    html = client.get(f"/stability/public/{d.pk}/").content.decode()
    assert 'id="comment-form"' in html and "待审核" in html and html.count("补偿太低") == 1
    assert pending.status == "pending"
    r = client.post(f"/stability/public/{d.pk}/", {"stance": "neutral", "text": "希望公开安置房选址"}, follow=True)
    assert "意见已提交" in r.content.decode()
    assert Comment.objects.filter(decision=d, author=other).count() == 2
    # a decision not yet in consultation has no public page
    draft = walk("scoped")
    assert client.get(f"/stability/public/{draft.pk}/").status_code == 404
    assert d.title in client.get("/stability/public/").content.decode()


def test_public_page_in_english(client, walk):
    d = walk("consultation")
    html = client.get(f"/stability/public/{d.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign in to comment" in html


def test_moderation_on_the_decision_page(client, walk, resident, assessor, other_staff):
    d = walk("consultation")
    c = services.comment_submit(decision=d, actor=resident, stance="oppose", text="噪音扰民，施工时间要限制")
    client.force_login(assessor)
    html = client.get(f"/stability/{d.pk}/").content.decode()
    assert f'id="comment-{c.pk}"' in html and "噪音扰民" in html
    r = client.post(f"/stability/{d.pk}/comments/{c.pk}/moderate/", {"approve": "0", "note": ""}, follow=True)
    assert "不予公开须说明理由" in r.content.decode()
    assert Comment.objects.get(pk=c.pk).status == "pending"
    client.post(f"/stability/{d.pk}/comments/{c.pk}/moderate/", {"approve": "0", "note": "含个人信息"})
    assert Comment.objects.get(pk=c.pk).status == "rejected"
    # staff of another unit can read nothing of it, and moderate nothing
    c2 = services.comment_submit(decision=d, actor=resident, stance="support", text="支持，早日改造完成")
    client.force_login(other_staff)
    page = client.get(f"/stability/{d.pk}/")
    assert page.status_code == 200  # public from consultation on: readable, but nothing to act on
    assert 'id="actions"' in page.content.decode() and "form-open_consultation" not in page.content.decode()
    assert "支持，早日改造完成" not in page.content.decode()
    client.post(f"/stability/{d.pk}/comments/{c2.pk}/moderate/", {"approve": "1"})
    assert Comment.objects.get(pk=c2.pk).status == "pending"


def test_scoping_of_decisions(client, walk, resident, other_staff, leader, proposer, api_client_for):
    internal = walk("risks_identified")
    public = walk("consultation")
    for user, sees_internal in ((resident, False), (other_staff, False), (leader, True), (proposer, True)):
        ids = {d["id"] for d in api_client_for(user).get("/api/v1/stability/decisions").json()}
        assert (internal.pk in ids) == sees_internal and public.pk in ids, user.username
        client.force_login(user)
        assert client.get(f"/stability/{internal.pk}/").status_code == (200 if sees_internal else 404)
    # a resident reads no risk register of an internal decision, and can take no action on a public one
    as_resident = api_client_for(resident)
    assert as_resident.get(f"/api/v1/stability/decisions/{internal.pk}/risks").status_code == 404
    r = as_resident.post(f"/api/v1/stability/decisions/{public.pk}/assess", data={"level": "low", "summary": "x"},
                         content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (403, "role_not_allowed")


def test_decision_page_offers_exactly_the_allowed_actions(client, walk, assessor, decider, clock):
    d = walk("legality_review", level="medium", mitigated=False)
    client.force_login(decider)
    html = client.get(f"/stability/{d.pk}/").content.decode()
    assert "form-decide" not in html  # the review's 7 working days are not over
    clock(timezone.now() + timedelta(days=20))
    client.force_login(decider)  # the session of 20 days ago has expired
    html = client.get(f"/stability/{d.pk}/").content.decode()
    assert "form-decide" in html and 'value="implement"' not in html and 'value="do_not_implement"' in html
    assert "未落实防范化解措施" in html
    r = client.post(f"/stability/{d.pk}/act/decide/", {"outcome": "revise"}, follow=True)
    assert "未落实防范化解措施" in r.content.decode() and Decision.objects.get(pk=d.pk).state == "legality_review"
    client.force_login(assessor)
    risk = d.risks.get(dimension="controllability")
    client.post(f"/stability/{d.pk}/risks/{risk.pk}/", {"mitigation": "设立接待点", "status": "mitigating"})
    client.force_login(decider)
    client.post(f"/stability/{d.pk}/act/decide/", {"outcome": "revise", "note": "调整补偿方案后再行决策"})
    assert Decision.objects.get(pk=d.pk).outcome == "revise"


def test_assessor_pages_register_risks_visits_and_hearings(client, walk, assessor):
    d = walk("consultation")
    client.force_login(assessor)
    today = timezone.localdate()
    client.post(f"/stability/{d.pk}/risks/", {"dimension": "security", "description": "拆除作业扬尘",
                                              "likelihood": "2", "impact": "2", "mitigation": "围挡洒水"})
    client.post(f"/stability/{d.pk}/visits/", {"visited_on": today, "place": "鹦鹉社区 3 栋", "people_met": "12",
                                               "findings": "多数住户支持，关注过渡安置"})
    client.post(f"/stability/{d.pk}/hearings/", {"held_on": today, "place": "区政府 3 楼会议室", "participants": "45",
                                                 "minutes": "听证笔录：补偿标准、安置房选址"})
    html = client.get(f"/stability/{d.pk}/").content.decode()
    assert "拆除作业扬尘" in html and "鹦鹉社区 3 栋" in html and "听证笔录：补偿标准" in html
    r = client.post(f"/stability/{d.pk}/visits/", {"visited_on": today + timedelta(days=3), "place": "x",
                                                   "people_met": "1", "findings": "x"}, follow=True)
    assert "日期不能晚于今天" in r.content.decode()
    assert d.visits.count() == 1


def test_list_and_new_pages(client, area_regions, proposer, leader):
    client.force_login(proposer)
    html = client.get("/stability/").content.decode()
    assert "暂无重大决策事项" in html and "/stability/new/" in html
    r = client.post("/stability/new/", {"title": "鹦鹉大道公交线路调整", "description": "撤并 2 条线路", "proposing_unit": "ST-ZSB",
                                        "assessing_unit": "ST-WPB", "region_codes": ["420105001"], "area": ""})
    d = Decision.objects.get(title="鹦鹉大道公交线路调整")
    assert r.status_code == 302 and r["Location"] == f"/stability/{d.pk}/"
    client.force_login(leader)
    html = client.get("/stability/").content.decode()
    assert "鹦鹉大道公交线路调整" in html and "汉阳区房屋征收管理办公室" in html and "鹦鹉街道" in html
    assert "ST-ZSB" not in html


def test_the_assessment_report_is_a_pdf_with_its_text(client, walk, assessor, resident, decider, clock):
    d = walk("consultation")
    c = services.comment_submit(decision=d, actor=resident, stance="oppose", text="补偿标准应当提高")
    services.comment_moderate(comment=c, actor=assessor, approve=True)
    services.visit_record(decision=d, actor=assessor, visited_on=timezone.localdate(), place="鹦鹉社区", people_met=20,
                          findings="关注安置")
    clock(timezone.now() + timedelta(days=31))
    d = services.decision_assess(decision=d, actor=assessor, level="medium", summary="中风险，须落实化解措施")
    client.force_login(assessor)
    r = client.get(f"/stability/{d.pk}/report.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    # table cells wrap their lines: compare without whitespace
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages))
    for expected in ("社会稳定风险评估报告", d.title, "汉阳区房屋征收管理办公室", "鹦鹉街道", "可控性", "部分居民对补偿不满聚集",
                     "3×4=12", "反对1", "中风险", "中风险，须落实化解措施", "鹦鹉社区"):
        assert expected in text, expected
    client.force_login(resident)
    assert client.get(f"/stability/{d.pk}/report.pdf").status_code == 404


def test_action_forms_name_their_fields(client, new_decision, assessor):
    d = new_decision()
    client.force_login(assessor)
    html = client.get(f"/stability/{d.pk}/").content.decode()
    assert "form-scope" in html and "评估范围" in html and ">scope<" not in html
    client.post(f"/stability/{d.pk}/act/scope/", {"scope": "征收范围内 320 户"})
    assert Decision.objects.get(pk=d.pk).scope == "征收范围内 320 户"
